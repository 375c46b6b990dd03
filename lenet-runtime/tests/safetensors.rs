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
    // As `safetensors.torch.save_file(state_dict)`: no metadata.
    assert!(meta.metadata().is_none());
    // The reference implementation writes the very same bytes.
    assert!(safetensors::serialize(st.tensors(), &None).unwrap() == bytes);
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
    // In the format's order (by name), fc.bias (8 bytes) then fc.weight
    // (24 bytes): cut into the weight.
    let (tensor, reason, msg) = weights_error(from_safetensors(&bytes[..bytes.len() - 3]));
    assert_eq!(tensor, Some("fc.weight"));
    assert_eq!(
        reason,
        WeightsFault::Truncated {
            expected: bytes.len(),
            found: bytes.len() - 3
        }
    );
    assert!(msg.contains("truncated"), "{msg}");
    // Cut into the bias, both tensors are cut: the error names the first in
    // the network's order.
    let (tensor, _, _) = weights_error(from_safetensors(&bytes[..bytes.len() - 27]));
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

// ---------------------------------------------------------------------------
// Corrupt and hostile files: one test per class of fault. Every one is an
// error of one line that names the tensor at fault (or, for faults of the
// file as a whole, says what is wrong with it), never garbage, never a
// panic.
// ---------------------------------------------------------------------------

/// A file of `header` (JSON as written, unpadded) followed by `data`.
fn raw(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    bytes
}

/// The header of Tiny's two tensors with the given offsets (and shapes as
/// the network has them).
fn tiny_header(weight: [u64; 2], bias: [u64; 2]) -> String {
    format!(
        r#"{{"fc.weight":{{"dtype":"F32","shape":[2,3],"data_offsets":[{},{}]}},"fc.bias":{{"dtype":"F32","shape":[2],"data_offsets":[{},{}]}}}}"#,
        weight[0], weight[1], bias[0], bias[1]
    )
}

/// The data of [`tiny`], weight then bias.
fn tiny_data() -> Vec<u8> {
    f32_bytes(&tiny().p)
}

/// Loads `bytes` as [`Tiny`], which must fail: the tensor named, the
/// reason, and the message, checked to be one line.
fn refused(bytes: &[u8]) -> (Option<&'static str>, WeightsFault, String) {
    let (tensor, reason, msg) = weights_error(from_safetensors(bytes));
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(msg.starts_with("weights: "), "{msg}");
    if let Some(t) = tensor {
        assert!(
            msg.starts_with(&format!("weights: tensor `{t}`: ")),
            "{msg}"
        );
    }
    (tensor, reason, msg)
}

#[test]
fn the_well_formed_raw_file_of_these_tests_loads() {
    let bytes = raw(&tiny_header([0, 24], [24, 32]), &tiny_data());
    assert_eq!(from_safetensors::<Tiny>(&bytes).unwrap(), tiny());
}

#[test]
fn offsets_that_wrap_around_are_refused() {
    // The crafted file of the issue: offsets near 2^64, 24 bytes apart as
    // the shape requires, chosen so that `data_start + start` wraps to the
    // header's own bytes.
    // (Offsets of 20 digits, as the crafted ones: the same header length.)
    let probe = raw(
        &tiny_header([10u64.pow(19), 10u64.pow(19) + 24], [24, 32]),
        &tiny_data(),
    );
    let data_start = probe.len() as u64 - 32;
    let start = 8u64.wrapping_sub(data_start);
    let bytes = raw(&tiny_header([start, start + 24], [24, 32]), &tiny_data());
    assert_eq!(bytes.len(), probe.len(), "same header length");
    let (tensor, reason, msg) = refused(&bytes);
    assert_eq!(tensor, Some("fc.weight"), "{msg}");
    assert!(matches!(reason, WeightsFault::Format { .. }), "{msg}");
    assert!(
        msg.contains(&format!("data_offsets [{start}, {}]", start + 24))
            && msg.contains("beyond the end"),
        "{msg}"
    );
    // At the very top of the range, and with an end that wrapped below
    // the start.
    let top = u64::MAX - 23;
    let (tensor, _, msg) = refused(&raw(&tiny_header([0, 24], [top, u64::MAX]), &tiny_data()));
    assert_eq!(tensor, Some("fc.bias"), "{msg}");
    let (tensor, _, msg) = refused(&raw(
        &tiny_header([u64::MAX - 7, 16], [24, 32]),
        &tiny_data(),
    ));
    assert_eq!(tensor, Some("fc.weight"), "{msg}");
    assert!(msg.contains("span 0 bytes"), "{msg}");
}

#[test]
fn offsets_beyond_the_data_are_refused() {
    let bytes = raw(&tiny_header([0, 24], [1000, 1008]), &tiny_data());
    let (tensor, reason, msg) = refused(&bytes);
    assert_eq!(tensor, Some("fc.bias"));
    assert_eq!(
        reason,
        WeightsFault::Truncated {
            expected: bytes.len() - 32 + 1008,
            found: bytes.len()
        },
        "{msg}"
    );
}

#[test]
fn overlapping_tensors_are_refused() {
    // The bias reads the weight's last 8 bytes.
    let bytes = raw(&tiny_header([0, 24], [16, 24]), &tiny_data()[..24]);
    let (tensor, _, msg) = refused(&bytes);
    assert_eq!(tensor, Some("fc.bias"), "{msg}");
    assert!(
        msg.contains("data_offsets [16, 24] overlap") && msg.contains("`fc.weight` ends at 24"),
        "{msg}"
    );
    // Both at the same place.
    let bytes = raw(&tiny_header([0, 24], [0, 8]), &tiny_data()[..24]);
    let (tensor, _, msg) = refused(&bytes);
    assert!(tensor.is_some() && msg.contains("overlap"), "{msg}");
}

#[test]
fn a_gap_between_tensors_is_refused() {
    let mut data = tiny_data();
    data.splice(24..24, [0xAA; 4]);
    let (tensor, _, msg) = refused(&raw(&tiny_header([0, 24], [28, 36]), &data));
    assert_eq!(tensor, Some("fc.bias"), "{msg}");
    assert!(
        msg.contains("data_offsets [28, 36] leave a gap") && msg.contains("`fc.weight` ends at 24"),
        "{msg}"
    );
    // A gap before the first tensor.
    let mut data = tiny_data();
    data.splice(0..0, [0xAA; 4]);
    let (tensor, _, msg) = refused(&raw(&tiny_header([4, 28], [28, 36]), &data));
    assert_eq!(tensor, Some("fc.weight"), "{msg}");
    assert!(msg.contains("the data begins at 0"), "{msg}");
}

#[test]
fn trailing_bytes_after_the_data_are_refused() {
    let mut bytes = to_safetensors(&tiny());
    bytes.extend(b"garbage");
    let (tensor, _, msg) = refused(&bytes);
    assert_eq!(tensor, None);
    assert!(
        msg.contains("7 unexpected bytes after the tensors' data, which ends at 32"),
        "{msg}"
    );
}

#[test]
fn a_header_length_that_lies_is_refused() {
    let good = raw(&tiny_header([0, 24], [24, 32]), &tiny_data());
    let n = good.len() as u64 - 8 - 32;
    let with_len = |len: u64| {
        let mut b = good.clone();
        b[..8].copy_from_slice(&len.to_le_bytes());
        b
    };
    // Longer than the file.
    let (tensor, reason, msg) = refused(&with_len(n + 1000));
    assert_eq!(tensor, None);
    assert_eq!(
        reason,
        WeightsFault::Truncated {
            expected: 8 + n as usize + 1000,
            found: good.len()
        },
        "{msg}"
    );
    // Far longer than any header may be, up to 2^64 - 1.
    for len in [100_000_001, 1 << 40, u64::MAX - 7, u64::MAX] {
        let (tensor, _, msg) = refused(&with_len(len));
        assert_eq!(tensor, None);
        assert!(msg.contains(&format!("header of {len} bytes")), "{msg}");
    }
    // Shorter: the JSON is cut.
    let (_, _, msg) = refused(&with_len(n - 5));
    assert!(msg.contains("not valid JSON"), "{msg}");
    // Zero: no header at all.
    let (_, _, msg) = refused(&with_len(0));
    assert!(msg.contains("not a JSON object"), "{msg}");
    // Shorter by the padding: the spaces become data before the tensors.
    let padded = to_safetensors(&tiny());
    let (n, _) = safetensors::SafeTensors::read_metadata(&padded).unwrap();
    let unpadded = String::from_utf8(padded[8..8 + n].to_vec()).unwrap();
    let spaces = unpadded.len() - unpadded.trim_end().len();
    assert!(spaces > 0, "the header of this test is padded");
    let mut b = padded.clone();
    b[..8].copy_from_slice(&((n - spaces) as u64).to_le_bytes());
    let (_, _, msg) = refused(&b);
    assert!(msg.contains(&format!("{spaces} unexpected bytes")), "{msg}");
}

#[test]
fn a_header_that_is_not_a_json_object_is_refused() {
    for (header, says) in [
        ("", "not a JSON object"),
        ("   ", "not a JSON object"),
        ("null", "not a JSON object"),
        ("\"fc.weight\"", "not a JSON object"),
        ("[{}]", "not a JSON object"),
        ("{\"fc.weight\":", "not valid JSON"),
        ("{} {}", "not valid JSON"),
        ("{}\0", "not valid JSON"),
        ("{\"a\":1,}", "not valid JSON"),
        (&"[".repeat(200), "not a JSON object"),
        (&format!("{{{}", "\"a\":{".repeat(200)), "not valid JSON"),
    ] {
        let (tensor, reason, msg) = refused(&raw(header, &tiny_data()));
        assert!(tensor.is_none() && matches!(reason, WeightsFault::Format { .. }));
        assert!(msg.contains(says), "{header:?}: {msg}");
    }
}

#[test]
fn a_header_that_is_not_utf8_is_refused() {
    for header in [
        &b"\xff\xfe"[..],
        b"{\"fc.w\xc3\x28\":{}}",
        b"{\"a\":\"\xed\xa0\x80\"}",
    ] {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header);
        let (tensor, _, msg) = refused(&bytes);
        assert!(tensor.is_none() && msg.contains("not UTF-8"), "{msg}");
    }
}

#[test]
fn metadata_that_is_not_strings_is_refused() {
    for meta in [
        r#"{"format":1}"#,
        r#"{"format":["pt"]}"#,
        r#""pt""#,
        "null",
        "[]",
    ] {
        let header =
            tiny_header([0, 24], [24, 32]).replacen('{', &format!("{{\"__metadata__\":{meta},"), 1);
        let bytes = raw(&header, &tiny_data());
        let (tensor, _, msg) = refused(&bytes);
        assert!(
            tensor.is_none() && msg.contains("`__metadata__` is not an object of strings"),
            "{meta}: {msg}"
        );
        let e = read_metadata(&bytes).unwrap_err().to_string();
        assert!(e.contains("`__metadata__`"), "{e}");
    }
}

#[test]
fn a_key_given_twice_is_refused() {
    // A tensor twice: JSON parsers keep one or the other.
    let entry = r#""fc.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}"#;
    let header = tiny_header([0, 24], [24, 32]).replacen('{', &format!("{{{entry},"), 1);
    let (tensor, _, msg) = refused(&raw(&header, &tiny_data()));
    assert_eq!(tensor, Some("fc.weight"), "{msg}");
    assert!(msg.contains("the header gives `fc.weight` twice"), "{msg}");
    // A field twice within a tensor's entry.
    let header = tiny_header([0, 24], [24, 32]).replacen(
        r#""dtype":"F32","#,
        r#""dtype":"F64","dtype":"F32","#,
        1,
    );
    let (tensor, _, msg) = refused(&raw(&header, &tiny_data()));
    assert_eq!(tensor, Some("fc.weight"), "{msg}");
    assert!(
        msg.contains("entry of `fc.weight` gives `dtype` twice"),
        "{msg}"
    );
    // A metadata key twice, also spelled with an escape.
    let header = tiny_header([0, 24], [24, 32]).replacen(
        '{',
        r#"{"__metadata__":{"format":"pt","form\u0061t":"np"},"#,
        1,
    );
    let bytes = raw(&header, &tiny_data());
    let (tensor, _, msg) = refused(&bytes);
    assert!(
        tensor.is_none() && msg.contains("gives `format` twice"),
        "{msg}"
    );
    assert!(read_metadata(&bytes).is_err());
    // Keys that only look alike, and repeats in different objects, are fine.
    let header = tiny_header([0, 24], [24, 32]).replacen(
        '{',
        r#"{"__metadata__":{"fc.weight":"a","fc.weight ":"b","dtype":"\"x\""},"#,
        1,
    );
    assert_eq!(
        from_safetensors::<Tiny>(&raw(&header, &tiny_data())).unwrap(),
        tiny()
    );
}

#[test]
fn a_dtype_that_is_unknown_or_not_a_string_is_refused() {
    for (dtype, says) in [
        (r#""F33""#, "the file has F33"),
        (r#""float32""#, "the file has float32"),
        (r#""f32""#, "the file has f32"),
        ("32", "no `dtype` string"),
        ("null", "no `dtype` string"),
    ] {
        let header = tiny_header([0, 24], [24, 32]).replacen(r#""F32""#, dtype, 1);
        let (tensor, _, msg) = refused(&raw(&header, &tiny_data()));
        assert_eq!(tensor, Some("fc.weight"), "{msg}");
        assert!(msg.contains(says), "{dtype}: {msg}");
    }
    // An entry without a dtype, and an entry that is not an object.
    let header = tiny_header([0, 24], [24, 32]).replacen(r#""dtype":"F32","#, "", 1);
    let (_, _, msg) = refused(&raw(&header, &tiny_data()));
    assert!(msg.contains("no `dtype` string"), "{msg}");
    let header =
        r#"{"fc.weight":[0,24],"fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}"#;
    let (tensor, _, msg) = refused(&raw(header, &tiny_data()));
    assert_eq!(tensor, Some("fc.weight"));
    assert!(
        msg.contains("malformed header entry: not an object"),
        "{msg}"
    );
}

#[test]
fn shapes_that_overflow_or_are_not_sizes_are_refused() {
    // A product that overflows 64 bits, with offsets that agree with its
    // wrapped value (2^32 · 2^32 · 6 · 4 ≡ 0): still the wrong shape.
    let header = tiny_header([0, 24], [24, 32]).replacen("[2,3]", "[4294967296,4294967296,6]", 1);
    let (tensor, reason, msg) = refused(&raw(&header, &tiny_data()));
    assert_eq!(tensor, Some("fc.weight"));
    assert_eq!(
        reason,
        WeightsFault::Shape {
            expected: &[2, 3],
            found: vec![1 << 32, 1 << 32, 6]
        },
        "{msg}"
    );
    // The same in a tensor the network does not have.
    let extra =
        r#""bn.weight":{"dtype":"F32","shape":[18446744073709551615,2],"data_offsets":[32,32]}"#;
    let header = tiny_header([0, 24], [24, 32]).replacen('{', &format!("{{{extra},"), 1);
    let (_, reason, _) = refused(&raw(&header, &tiny_data()));
    assert_eq!(
        reason,
        WeightsFault::Unexpected {
            name: "bn.weight".into()
        }
    );
    // Sizes that are not natural numbers.
    for shape in [
        "[2,-3]",
        "[2,3.0]",
        "[2,\"3\"]",
        "[2,1e1]",
        "[2,18446744073709551616]",
        "6",
        "null",
    ] {
        let header = tiny_header([0, 24], [24, 32]).replacen("[2,3]", shape, 1);
        let (tensor, _, msg) = refused(&raw(&header, &tiny_data()));
        assert_eq!(tensor, Some("fc.weight"));
        assert!(msg.contains("no `shape` list of sizes"), "{shape}: {msg}");
    }
    // A shape of the right product but the wrong rank.
    let header = tiny_header([0, 24], [24, 32]).replacen("[2,3]", "[6]", 1);
    let (_, reason, _) = refused(&raw(&header, &tiny_data()));
    assert!(matches!(reason, WeightsFault::Shape { .. }));
}

#[test]
fn offsets_that_are_not_a_pair_of_sizes_are_refused() {
    for offsets in [
        "[0]",
        "[0,24,48]",
        "[]",
        "[\"0\",\"24\"]",
        "[0,-24]",
        "[0.0,24.0]",
        "[0,18446744073709551616]",
        "{}",
    ] {
        let header = tiny_header([0, 24], [24, 32]).replacen("[0,24]", offsets, 1);
        let (tensor, _, msg) = refused(&raw(&header, &tiny_data()));
        assert_eq!(tensor, Some("fc.weight"), "{offsets}: {msg}");
        assert!(msg.contains("`data_offsets`"), "{offsets}: {msg}");
    }
    let header = tiny_header([0, 24], [24, 32]).replacen(r#","data_offsets":[0,24]"#, "", 1);
    let (_, _, msg) = refused(&raw(&header, &tiny_data()));
    assert!(msg.contains("no `data_offsets`"), "{msg}");
}

#[test]
fn an_empty_or_tiny_file_is_refused() {
    for n in 0..8 {
        let (tensor, reason, msg) = refused(&vec![0; n]);
        assert_eq!(tensor, None);
        assert_eq!(
            reason,
            WeightsFault::Truncated {
                expected: 8,
                found: n
            },
            "{msg}"
        );
    }
    // An empty header `{}`: every tensor missing, the first one named.
    let (tensor, reason, _) = refused(&raw("{}", &[]));
    assert_eq!((tensor, reason), (Some("fc.weight"), WeightsFault::Missing));
}

#[test]
fn truncated_data_names_the_tensor_in_every_position() {
    // Tensors stored in the reverse order of the network's: a cut reaches
    // the weight first, stored last, and names it.
    let mut data = f32_bytes(&tiny().p[6..]);
    data.extend(f32_bytes(&tiny().p[..6]));
    let bytes = raw(&tiny_header([8, 32], [0, 8]), &data);
    assert_eq!(from_safetensors::<Tiny>(&bytes).unwrap(), tiny());
    for cut in 1..=32 {
        let (tensor, reason, msg) = refused(&bytes[..bytes.len() - cut]);
        assert_eq!(tensor, Some("fc.weight"), "cut {cut}: {msg}");
        assert!(matches!(reason, WeightsFault::Truncated { .. }), "{msg}");
    }
}
