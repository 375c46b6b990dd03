//! safetensors files with PyTorch's tensor names, so that
//! `safetensors.torch.save_file(model.state_dict(), path)` and
//! `load_file(path)` exchange weights with a network of the same
//! declaration.
//!
//! The format: 8 bytes of little-endian `u64` header length `n`, `n` bytes
//! of JSON (`{"conv1.weight": {"dtype": "F32", "shape": [6, 1, 5, 5],
//! "data_offsets": [0, 600]}, …, "__metadata__": {…}}`), then the tensor
//! data, offsets counted from the end of the header. The header is parsed
//! here rather than by the `safetensors` crate so that every fault can name
//! its tensor.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, WeightsFault};
use crate::network::{Network, ParamSpec};

/// Larger headers are refused as corrupt (the `safetensors` crate's limit).
const MAX_HEADER: u64 = 100_000_000;

/// The key of the free-form string metadata in the header.
const METADATA_KEY: &str = "__metadata__";

fn fault(tensor: Option<&'static str>, reason: WeightsFault) -> Error {
    Error::Weights { tensor, reason }
}

fn format_fault(tensor: Option<&'static str>, detail: String) -> Error {
    fault(tensor, WeightsFault::Format { detail })
}

/// Reads a network from the bytes of a safetensors file.
///
/// Every tensor of [`Network::PARAMS`] must be present as `F32` with its
/// PyTorch shape, and the file must hold no other tensor. Errors name the
/// tensor at fault.
pub fn from_safetensors<N: Network>(bytes: &[u8]) -> Result<N, Error> {
    let (header, data_start) = parse_header(bytes)?;
    let mut net = N::zeros();
    for spec in N::PARAMS {
        let entry = header
            .get(spec.name)
            .ok_or(fault(Some(spec.name), WeightsFault::Missing))?;
        let (start, end) = check_entry(spec, entry)?;
        let (from, to) = (data_start + start, data_start + end);
        if to > bytes.len() {
            return Err(fault(
                Some(spec.name),
                WeightsFault::Truncated {
                    expected: to,
                    found: bytes.len(),
                },
            ));
        }
        let dst = &mut net.parameters_mut()[spec.offset..spec.offset + spec.len];
        for (v, b) in dst.iter_mut().zip(bytes[from..to].chunks_exact(4)) {
            *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
    let mut extra: Vec<&String> = header
        .keys()
        .filter(|k| *k != METADATA_KEY && !N::PARAMS.iter().any(|p| p.name == *k))
        .collect();
    extra.sort();
    if let Some(name) = extra.first() {
        return Err(fault(
            None,
            WeightsFault::Unexpected {
                name: name.to_string(),
            },
        ));
    }
    Ok(net)
}

/// The header's tensor table and where the data begins.
fn parse_header(bytes: &[u8]) -> Result<(Map<String, Value>, usize), Error> {
    let Some(len) = bytes.get(..8) else {
        return Err(fault(
            None,
            WeightsFault::Truncated {
                expected: 8,
                found: bytes.len(),
            },
        ));
    };
    let n = u64::from_le_bytes(len.try_into().unwrap_or([0; 8]));
    if n > MAX_HEADER {
        return Err(format_fault(
            None,
            format!(
                "the first 8 bytes announce a header of {n} bytes (at most {MAX_HEADER} allowed)"
            ),
        ));
    }
    let end = 8 + n as usize;
    if end > bytes.len() {
        return Err(fault(
            None,
            WeightsFault::Truncated {
                expected: end,
                found: bytes.len(),
            },
        ));
    }
    let text = std::str::from_utf8(&bytes[8..end])
        .map_err(|e| format_fault(None, format!("the header is not UTF-8 ({e})")))?;
    if !text.trim_start().starts_with('{') {
        return Err(format_fault(None, "the header is not a JSON object".into()));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format_fault(None, format!("the header is not valid JSON ({e})")))?;
    match value {
        Value::Object(map) => Ok((map, end)),
        _ => Err(format_fault(None, "the header is not a JSON object".into())),
    }
}

/// Checks one tensor's entry against the network's spec; returns its data
/// offsets.
fn check_entry(spec: &ParamSpec, entry: &Value) -> Result<(usize, usize), Error> {
    let bad = |what: &str| format_fault(Some(spec.name), format!("malformed header entry: {what}"));
    let entry = entry.as_object().ok_or_else(|| bad("not an object"))?;
    let dtype = entry
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no `dtype` string"))?;
    if dtype != "F32" {
        return Err(fault(
            Some(spec.name),
            WeightsFault::Dtype {
                found: dtype.to_string(),
            },
        ));
    }
    let shape = entry
        .get("shape")
        .and_then(Value::as_array)
        .and_then(|s| {
            s.iter()
                .map(|d| d.as_u64().map(|d| d as usize))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| bad("no `shape` list of sizes"))?;
    if shape != spec.shape {
        return Err(fault(
            Some(spec.name),
            WeightsFault::Shape {
                expected: spec.shape,
                found: shape,
            },
        ));
    }
    let offsets = entry
        .get("data_offsets")
        .and_then(Value::as_array)
        .and_then(|o| o.iter().map(|d| d.as_u64()).collect::<Option<Vec<_>>>())
        .ok_or_else(|| bad("no `data_offsets` pair"))?;
    let [start, end] = offsets[..] else {
        return Err(bad("`data_offsets` is not a pair"));
    };
    if end < start || end - start != spec.len as u64 * 4 {
        return Err(format_fault(
            Some(spec.name),
            format!(
                "data_offsets [{start}, {end}] span {} bytes, but {:?} F32 needs {}",
                end.saturating_sub(start),
                spec.shape,
                spec.len * 4
            ),
        ));
    }
    let start = usize::try_from(start).map_err(|_| bad("offset beyond memory"))?;
    Ok((start, start + spec.len * 4))
}

/// Reads a network from a safetensors file (see [`from_safetensors`]).
pub fn load_safetensors<N: Network>(path: &Path) -> Result<N, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    from_safetensors(&bytes)
}

/// The safetensors bytes of a network: tensors in PyTorch's order, all
/// `F32`, with `{"format": "pt"}` metadata as `safetensors.torch` writes.
pub fn to_safetensors<N: Network>(net: &N) -> Vec<u8> {
    to_safetensors_with_metadata(net, &Metadata::new())
}

/// Free-form string metadata of a safetensors file: the header's
/// `__metadata__` object.
pub type Metadata = BTreeMap<String, String>;

/// [`to_safetensors`] with `metadata` in the header's `__metadata__` object
/// besides `{"format": "pt"}` (a `format` key in `metadata` replaces it).
pub fn to_safetensors_with_metadata<N: Network>(net: &N, metadata: &Metadata) -> Vec<u8> {
    let mut meta = Map::new();
    meta.insert("format".into(), Value::String("pt".into()));
    for (k, v) in metadata {
        meta.insert(k.clone(), Value::String(v.clone()));
    }
    let mut header = String::from("{");
    header.push_str(&format!("\"{METADATA_KEY}\":{}", Value::Object(meta)));
    let mut offset = 0;
    for spec in N::PARAMS {
        let name = Value::String(spec.name.to_string());
        let shape: Vec<String> = spec.shape.iter().map(|d| d.to_string()).collect();
        header.push_str(&format!(
            ",{name}:{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
            shape.join(","),
            offset + spec.len * 4
        ));
        offset += spec.len * 4;
    }
    header.push('}');
    // Pad with spaces so that the data starts 8-byte aligned, as the
    // reference implementation does.
    while (8 + header.len()) % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header.as_bytes());
    for spec in N::PARAMS {
        for v in &net.parameters()[spec.offset..spec.offset + spec.len] {
            out.extend(v.to_le_bytes());
        }
    }
    out
}

/// The `__metadata__` of safetensors bytes (empty when the header has
/// none). Errors when the header itself is malformed, or when the metadata
/// is not an object of strings, as the format requires.
pub fn read_metadata(bytes: &[u8]) -> Result<Metadata, Error> {
    let (header, _) = parse_header(bytes)?;
    let Some(meta) = header.get(METADATA_KEY) else {
        return Ok(Metadata::new());
    };
    let bad = || format_fault(None, "`__metadata__` is not an object of strings".into());
    let meta = meta.as_object().ok_or_else(bad)?;
    meta.iter()
        .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(bad)?.to_string())))
        .collect()
}

/// Writes a network to a safetensors file, atomically: the bytes go to a
/// temporary file in the same directory, which is flushed to disk and then
/// renamed over `path`. A reader, or a crash at any moment, sees either the
/// previous file whole or the new one whole.
pub fn save_safetensors<N: Network>(net: &N, path: &Path) -> Result<(), Error> {
    super::write_atomically(path, &to_safetensors(net))
}

/// [`save_safetensors`] with `metadata` in the header (see
/// [`to_safetensors_with_metadata`]), atomically.
pub fn save_safetensors_with_metadata<N: Network>(
    net: &N,
    path: &Path,
    metadata: &Metadata,
) -> Result<(), Error> {
    super::write_atomically(path, &to_safetensors_with_metadata(net, metadata))
}
