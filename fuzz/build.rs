//! Writes `macro_modules.rs` for the `macro_entry` target: one
//! `#[path = …] mod name;` for every module that `lenet-macros/src/lib.rs`
//! declares (test-only modules aside). The macro crate's `lib.rs` is the
//! one list of its modules; a module added there is fuzzed without any
//! change here.

use std::path::Path;

fn main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../lenet-macros/src");
    let lib = src.join("lib.rs");
    println!("cargo:rerun-if-changed={}", lib.display());
    let text = std::fs::read_to_string(&lib).expect("lenet-macros/src/lib.rs");
    let mut out = String::new();
    let mut test_only = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if line.starts_with("#[") {
            test_only |= line.starts_with("#[cfg(test)]");
            continue;
        }
        let decl = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub "))
            .unwrap_or(line);
        if let Some(name) = decl.strip_prefix("mod ").and_then(|d| d.strip_suffix(';')) {
            if !test_only {
                let file = [
                    src.join(format!("{name}.rs")),
                    src.join(name).join("mod.rs"),
                ]
                .into_iter()
                .find(|f| f.exists())
                .unwrap_or_else(|| panic!("lenet-macros: no file for `mod {name};`"));
                println!("cargo:rerun-if-changed={}", file.display());
                out.push_str(&format!(
                    "#[path = {:?}]\nmod {name};\n",
                    file.display().to_string()
                ));
            }
        }
        test_only = false;
    }
    assert!(
        out.contains("mod expand;"),
        "lenet-macros/src/lib.rs declares no `expand` module"
    );
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("macro_modules.rs");
    std::fs::write(dest, out).unwrap();
}
