//! safetensors files: round trips, compatibility with the reference
//! implementation, every fault naming its tensor, and atomic saves.

mod linear_model;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use lenet_runtime::error::{Error, WeightsFault};
use lenet_runtime::network::init;
use lenet_runtime::weights::safetensors::{
    from_safetensors, load_safetensors, read_metadata, save_safetensors,
    save_safetensors_with_metadata, to_safetensors, Metadata,
};
use linear_model::{Big, Tiny};
use safetensors::tensor::TensorView;
use safetensors::Dtype;

fn tiny() -> Tiny {
    Tiny {
        p: vec![1.5, -2.0, 0.25, 3.0, 1e-30, -0.0, 7.0, -8.5],
    }
}

/// A file as the reference implementation writes it (PyTorch's
/// `save_file` goes through the same code): `tensors` of `(name, dtype,
/// shape, bytes)`.
fn reference_file(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let meta = Some(HashMap::from([("format".to_string(), "pt".to_string())]));
    safetensors::serialize(views, &meta).unwrap()
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn tiny_tensors() -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
    let t = tiny();
    vec![
        ("fc.bias", Dtype::F32, vec![2], f32_bytes(&t.p[6..])),
        ("fc.weight", Dtype::F32, vec![2, 3], f32_bytes(&t.p[..6])),
    ]
}

fn weights_error(r: Result<Tiny, Error>) -> (Option<&'static str>, WeightsFault, String) {
    match r {
        Err(e @ Error::Weights { .. }) => {
            let msg = e.to_string();
            let Error::Weights { tensor, reason } = e else {
                unreachable!()
            };
            (tensor, reason, msg)
        }
        other => panic!("expected a weights error, got {other:?}"),
    }
}

#[test]
fn round_trip_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.safetensors");
    let net = tiny();
    save_safetensors(&net, &path).unwrap();
    let back: Tiny = load_safetensors(&path).unwrap();
    assert_eq!(
        back.p.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        net.p.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    // Bigger, initialised network; and no temporary file left behind.
    let big: linear_model::Mnist = init(3);
    save_safetensors(&big, &path).unwrap();
    assert_eq!(load_safetensors::<linear_model::Mnist>(&path).unwrap(), big);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["tiny.safetensors"]);
}

#[test]
fn our_files_read_with_the_reference_implementation() {
    let bytes = to_safetensors(&tiny());
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let w = st.tensor("fc.weight").unwrap();
    assert_eq!((w.dtype(), w.shape()), (Dtype::F32, &[2usize, 3][..]));
    assert_eq!(w.data(), f32_bytes(&tiny().p[..6]));
    assert_eq!(
        st.tensor("fc.bias").unwrap().data(),
        f32_bytes(&tiny().p[6..])
    );
    let (n, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!((8 + n) % 8, 0, "data is 8-byte aligned");
    assert_eq!(meta.metadata().as_ref().unwrap()["format"], "pt");
}

#[test]
fn metadata_round_trips_and_the_reference_implementation_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.safetensors");
    let meta = Metadata::from([
        ("network".to_string(), "Tiny \"quoted\" \\ é".to_string()),
        ("classes".to_string(), "0,1".to_string()),
    ]);
    save_safetensors_with_metadata(&tiny(), &path, &meta).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let back = read_metadata(&bytes).unwrap();
    assert_eq!(back["network"], meta["network"]);
    assert_eq!(back["classes"], "0,1");
    assert_eq!(back["format"], "pt");
    let (_, st) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(st.metadata().as_ref().unwrap()["network"], meta["network"]);
    assert_eq!(from_safetensors::<Tiny>(&bytes).unwrap(), tiny());
    // A file without metadata has none; a malformed one is an error.
    let plain = reference_file(&tiny_tensors());
    assert_eq!(read_metadata(&plain).unwrap()["format"], "pt");
    assert!(read_metadata(b"nonsense").is_err());
}

#[test]
fn reference_files_load_whatever_their_tensor_order() {
    let net: Tiny = from_safetensors(&reference_file(&tiny_tensors())).unwrap();
    assert_eq!(net, tiny());
}

#[test]
fn a_missing_tensor_is_named() {
    let mut t = tiny_tensors();
    t.remove(0);
    let (tensor, reason, msg) = weights_error(from_safetensors(&reference_file(&t)));
    assert_eq!((tensor, reason), (Some("fc.bias"), WeightsFault::Missing));
    assert_eq!(msg, "weights: tensor `fc.bias`: missing from the file");
}

#[test]
fn an_extra_tensor_is_named() {
    let mut t = tiny_tensors();
    t.push((
        "bn.num_batches_tracked",
        Dtype::F32,
        vec![1],
        f32_bytes(&[0.0]),
    ));
    let (_, reason, msg) = weights_error(from_safetensors(&reference_file(&t)));
    assert_eq!(
        reason,
        WeightsFault::Unexpected {
            name: "bn.num_batches_tracked".into()
        }
    );
    assert!(
        msg.contains("`bn.num_batches_tracked`, which the network does not have"),
        "{msg}"
    );
}

#[test]
fn a_wrong_shape_says_expected_and_found() {
    let mut t = tiny_tensors();
    t[1].2 = vec![3, 2];
    let (tensor, reason, msg) = weights_error(from_safetensors(&reference_file(&t)));
    assert_eq!(tensor, Some("fc.weight"));
    assert_eq!(
        reason,
        WeightsFault::Shape {
            expected: &[2, 3],
            found: vec![3, 2]
        }
    );
    assert_eq!(
        msg,
        "weights: tensor `fc.weight`: shape should be [2, 3], the file has [3, 2]"
    );
}

#[test]
fn a_wrong_dtype_says_what_was_found() {
    let mut t = tiny_tensors();
    t[1] = ("fc.weight", Dtype::F64, vec![2, 3], vec![0; 48]);
    let (tensor, reason, msg) = weights_error(from_safetensors(&reference_file(&t)));
    assert_eq!(
        (tensor, reason),
        (
            Some("fc.weight"),
            WeightsFault::Dtype {
                found: "F64".into()
            }
        )
    );
    assert!(
        msg.ends_with("dtype should be F32, the file has F64"),
        "{msg}"
    );
    t[1] = ("fc.weight", Dtype::F16, vec![2, 3], vec![0; 12]);
    let (_, reason, _) = weights_error(from_safetensors(&reference_file(&t)));
    assert_eq!(
        reason,
        WeightsFault::Dtype {
            found: "F16".into()
        }
    );
}

#[test]
fn a_truncated_file_names_the_tensor_cut_off() {
    let bytes = to_safetensors(&tiny());
    // fc.weight (24 bytes) then fc.bias (8 bytes): cut into the bias.
    let (tensor, reason, msg) = weights_error(from_safetensors(&bytes[..bytes.len() - 3]));
    assert_eq!(tensor, Some("fc.bias"));
    assert_eq!(
        reason,
        WeightsFault::Truncated {
            expected: bytes.len(),
            found: bytes.len() - 3
        }
    );
    assert!(msg.contains("truncated"), "{msg}");
    let (tensor, _, _) = weights_error(from_safetensors(&bytes[..bytes.len() - 10]));
    assert_eq!(tensor, Some("fc.weight"));
    // Cut inside the header, and before the header length.
    let (tensor, reason, _) = weights_error(from_safetensors(&bytes[..20]));
    assert!(tensor.is_none() && matches!(reason, WeightsFault::Truncated { found: 20, .. }));
    let (_, reason, _) = weights_error(from_safetensors(&bytes[..5]));
    assert_eq!(
        reason,
        WeightsFault::Truncated {
            expected: 8,
            found: 5
        }
    );
}

#[test]
fn not_safetensors_at_all() {
    for (bytes, says) in [
        (&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..], "header of"),
        (b"\x04\0\0\0\0\0\0\0abcd", "not a JSON object"),
        (b"\x04\0\0\0\0\0\0\0{ab}", "not valid JSON"),
        (b"\x02\0\0\0\0\0\0\0[]", "not a JSON object"),
        (b"\x02\0\0\0\0\0\0\0\xff\xfe", "not UTF-8"),
    ] {
        let (tensor, reason, msg) = weights_error(from_safetensors(bytes));
        assert!(
            tensor.is_none() && matches!(reason, WeightsFault::Format { .. }),
            "{msg}"
        );
        assert!(
            msg.contains("not a safetensors file") && msg.contains(says),
            "{msg}"
        );
    }
    // A header entry that is not a tensor description names the tensor.
    let header = br#"{"fc.weight":{"dtype":"F32","shape":"2x3","data_offsets":[0,24]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header);
    bytes.extend([0; 24]);
    let (tensor, _, msg) = weights_error(from_safetensors(&bytes));
    assert_eq!(tensor, Some("fc.weight"), "{msg}");
    assert!(msg.contains("shape"), "{msg}");
}

#[test]
fn offsets_that_disagree_with_the_shape_are_refused() {
    let header = br#"{"fc.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]},"fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[20,28]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header);
    bytes.extend([0; 28]);
    let (tensor, _, msg) = weights_error(from_safetensors(&bytes));
    assert_eq!(tensor, Some("fc.weight"));
    assert!(
        msg.contains("span 20 bytes") && msg.contains("needs 24"),
        "{msg}"
    );
}

#[test]
fn io_errors_name_the_file() {
    let e = load_safetensors::<Tiny>(Path::new("/nonexistent/w.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("/nonexistent/w.safetensors: "), "{e}");
    let e = save_safetensors(&tiny(), Path::new("/nonexistent/dir/w.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/dir"), "{e}");
}

/// Child mode of [`a_save_killed_midway_leaves_a_whole_file`]: saves two
/// large networks over one file in turn until killed.
#[test]
fn child_saves_in_a_loop() {
    let Some(path) = std::env::var_os("LENET_TEST_SAVE_LOOP") else {
        return;
    };
    let (a, b) = (big(1), big(2));
    loop {
        save_safetensors(&a, Path::new(&path)).unwrap();
        save_safetensors(&b, Path::new(&path)).unwrap();
    }
}

fn big(seed: u64) -> Big {
    init(seed)
}

/// Loads `path`, which must hold `a` or `b` whole; says which.
fn whole(path: &Path, a: &Big, b: &Big, when: &str) -> usize {
    let got: Big = load_safetensors(path).unwrap_or_else(|e| panic!("{when}: {e}"));
    if got == *a {
        0
    } else if got == *b {
        1
    } else {
        panic!("{when}: the file is neither network")
    }
}

#[test]
fn a_save_killed_midway_leaves_a_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.safetensors");
    let (a, b) = (big(1), big(2));
    save_safetensors(&a, &path).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut seen = [0usize; 2];
    for round in 0..6u64 {
        let mut child = Command::new(&exe)
            .args(["--exact", "child_saves_in_a_loop", "--test-threads=1"])
            .env("LENET_TEST_SAVE_LOOP", &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // While the child saves over and over, every read sees a whole file…
        let until = Instant::now() + Duration::from_millis(300 + 37 * round);
        while Instant::now() < until {
            seen[whole(&path, &a, &b, &format!("round {round}, while saving"))] += 1;
        }
        // …and so does the first read after killing it at an arbitrary moment.
        child.kill().unwrap();
        child.wait().unwrap();
        seen[whole(&path, &a, &b, &format!("round {round}, after the kill"))] += 1;
    }
    // The child did overwrite the file: both versions were read.
    assert!(seen[0] > 0 && seen[1] > 0, "{seen:?}");
}
