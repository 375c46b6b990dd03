//! safetensors files with PyTorch's tensor names, so that
//! `safetensors.torch.save_file(model.state_dict(), path)` and
//! `load_file(path)` exchange weights with a network of the same
//! declaration.
//!
//! The format: 8 bytes of little-endian `u64` header length `n`, `n` bytes
//! of JSON (`{"conv1.weight": {"dtype": "F32", "shape": [6, 1, 5, 5],
//! "data_offsets": [0, 600]}, …, "__metadata__": {…}}`), then the tensor
//! data, offsets counted from the end of the header.
//!
//! Reading trusts nothing in the file. The header is first checked here,
//! entry by entry and with checked arithmetic, so that every fault names
//! its tensor; then the `safetensors` crate's validated parser reads the
//! file again (it refuses offsets out of range, overlapping or leaving
//! gaps), and the values are copied from the views it returns.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use safetensors::{SafeTensorError, SafeTensors};
use serde_json::{Map, Value};

use crate::error::{Error, WeightsFault};
use crate::network::{BufferDtype, Network};

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

/// One tensor a network's file holds: a parameter or a buffer.
#[derive(Debug, Clone, Copy)]
struct Entry {
    name: &'static str,
    shape: &'static [usize],
    /// `F32` or `I64`, as the header writes it.
    dtype: &'static str,
    /// Elements.
    len: usize,
    /// Where its values go.
    place: Place,
}

/// Where a tensor's values live in the network.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// `len` floats at this offset of [`Network::storage`].
    Storage(usize),
    /// The counter at this index of [`Network::counters`].
    Counter(usize),
}

impl Entry {
    /// Bytes per element.
    fn width(&self) -> u64 {
        match self.place {
            Place::Storage(_) => 4,
            Place::Counter(_) => 8,
        }
    }
}

/// Every tensor of `N`'s files: the parameters in PyTorch's order, then the
/// buffers (PyTorch's `state_dict()` holds both).
fn entries<N: Network>() -> impl Iterator<Item = Entry> {
    let params = N::PARAMS.iter().map(|p| Entry {
        name: p.name,
        shape: p.shape,
        dtype: "F32",
        len: p.len,
        place: Place::Storage(p.offset),
    });
    let buffers = N::BUFFERS.iter().map(|b| match b.dtype {
        BufferDtype::F32 => Entry {
            name: b.name,
            shape: b.shape,
            dtype: "F32",
            len: b.len,
            place: Place::Storage(N::PARAM_COUNT + b.offset),
        },
        BufferDtype::I64 => Entry {
            name: b.name,
            shape: b.shape,
            dtype: "I64",
            len: 1,
            place: Place::Counter(b.offset),
        },
    });
    params.chain(buffers)
}

/// The network's own name for `name`, if it has a tensor of that name.
fn known<N: Network>(name: &str) -> Option<&'static str> {
    entries::<N>().find(|e| e.name == name).map(|e| e.name)
}

/// Reads a network from the bytes of a safetensors file.
///
/// Every tensor of [`Network::PARAMS`] must be present as `F32` with its
/// PyTorch shape, and every buffer of [`Network::BUFFERS`] with its dtype
/// (`num_batches_tracked` an `I64` of shape `[]`), the file must hold no other tensor, and the tensors'
/// data must tile the rest of the file exactly: no gap, no overlap, nothing
/// after the last one. Errors name the tensor at fault.
pub fn from_safetensors<N: Network>(bytes: &[u8]) -> Result<N, Error> {
    let header = parse_header(bytes)?;
    if let Some(dup) = duplicate_key(header.text) {
        return Err(duplicate_fault(dup, known::<N>));
    }
    if let Some(meta) = header.map.get(METADATA_KEY) {
        metadata_strings(meta)?;
    }
    let data_len = bytes.len() - header.data_start;
    let mut spans = Vec::with_capacity(N::PARAMS.len() + N::BUFFERS.len());
    for spec in entries::<N>() {
        let entry = header
            .map
            .get(spec.name)
            .ok_or(fault(Some(spec.name), WeightsFault::Missing))?;
        let (start, end) = check_entry(&spec, entry)?;
        check_range(spec.name, start, end, header.data_start, bytes.len())?;
        spans.push((start, end, spec.name));
    }
    let mut extra: Vec<&String> = header
        .map
        .keys()
        .filter(|k| *k != METADATA_KEY && known::<N>(k).is_none())
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
    check_tiling(&mut spans, data_len as u64)?;

    // Everything above named its tensor; the reference parser now reads the
    // file on its own and is the one whose slices are copied.
    let st = SafeTensors::deserialize(bytes).map_err(|e| parser_fault::<N>(&e))?;
    let mut net = N::zeros();
    for spec in entries::<N>() {
        let view = st.tensor(spec.name).map_err(|e| parser_fault::<N>(&e))?;
        let data = view.data();
        let dtype = match spec.place {
            Place::Storage(_) => safetensors::Dtype::F32,
            Place::Counter(_) => safetensors::Dtype::I64,
        };
        if view.dtype() != dtype
            || view.shape() != spec.shape
            || data.len() as u64 != spec.len as u64 * spec.width()
        {
            return Err(format_fault(
                Some(spec.name),
                "the safetensors parser disagrees with the header".into(),
            ));
        }
        match spec.place {
            Place::Storage(offset) => {
                let dst = &mut net.storage_mut()[offset..offset + spec.len];
                for (v, b) in dst.iter_mut().zip(data.chunks_exact(4)) {
                    *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
            Place::Counter(index) => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[..8]);
                net.counters_mut()[index] = i64::from_le_bytes(b);
            }
        }
    }
    Ok(net)
}

/// A header that parsed: its text, its top-level object, and where the
/// data begins.
struct Header<'a> {
    text: &'a str,
    map: Map<String, Value>,
    data_start: usize,
}

/// Reads the header length, the header (UTF-8, a JSON object), and checks
/// that the file is long enough to hold it.
fn parse_header(bytes: &[u8]) -> Result<Header<'_>, Error> {
    let Some(len) = bytes.first_chunk::<8>() else {
        return Err(fault(
            None,
            WeightsFault::Truncated {
                expected: 8,
                found: bytes.len(),
            },
        ));
    };
    let n = u64::from_le_bytes(*len);
    let too_large = || {
        format_fault(
            None,
            format!(
                "the first 8 bytes announce a header of {n} bytes (at most {MAX_HEADER} allowed)"
            ),
        )
    };
    if n > MAX_HEADER {
        return Err(too_large());
    }
    let end = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_add(8))
        .ok_or_else(too_large)?;
    let Some(raw) = bytes.get(8..end) else {
        return Err(fault(
            None,
            WeightsFault::Truncated {
                expected: end,
                found: bytes.len(),
            },
        ));
    };
    let text = std::str::from_utf8(raw)
        .map_err(|e| format_fault(None, format!("the header is not UTF-8 ({e})")))?;
    if !text.trim_start().starts_with('{') {
        return Err(format_fault(None, "the header is not a JSON object".into()));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format_fault(None, format!("the header is not valid JSON ({e})")))?;
    match value {
        Value::Object(map) => Ok(Header {
            text,
            map,
            data_start: end,
        }),
        _ => Err(format_fault(None, "the header is not a JSON object".into())),
    }
}

/// A key given twice in one JSON object: `(the top-level key it is under,
/// the key)`; the first is `None` for a repeated top-level key.
type Duplicate = (Option<String>, String);

/// The first key repeated within one object of `json`, which must be valid
/// JSON. JSON parsers disagree on which copy wins (`serde_json` keeps the
/// last, others the first), so a file with one is refused rather than read
/// one way here and another way elsewhere.
fn duplicate_key(json: &str) -> Option<Duplicate> {
    // One frame per open bracket: the keys seen so far for an object,
    // `None` for an array.
    let mut stack: Vec<Option<HashSet<String>>> = Vec::new();
    let mut top: Option<String> = None;
    let mut expect_key = false;
    let b = json.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'{' => {
                stack.push(Some(HashSet::new()));
                expect_key = true;
            }
            b'[' => {
                stack.push(None);
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => expect_key = matches!(stack.last(), Some(Some(_))),
            b'"' => {
                let start = i;
                i += 1;
                while let Some(&c) = b.get(i) {
                    match c {
                        b'"' => break,
                        b'\\' => i += 2,
                        _ => i += 1,
                    }
                }
                if expect_key {
                    expect_key = false;
                    let key: String = serde_json::from_str(json.get(start..=i)?).ok()?;
                    if stack.len() == 1 {
                        top = Some(key.clone());
                    }
                    if let Some(Some(seen)) = stack.last_mut() {
                        if !seen.insert(key.clone()) {
                            let under = if stack.len() == 1 { None } else { top };
                            return Some((under, key));
                        }
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The error for a repeated key, naming the tensor whose entry it is when
/// `known` knows it.
fn duplicate_fault((under, key): Duplicate, known: fn(&str) -> Option<&'static str>) -> Error {
    match under {
        None => format_fault(known(&key), format!("the header gives `{key}` twice")),
        Some(top) => format_fault(
            known(&top),
            format!("the header entry of `{top}` gives `{key}` twice"),
        ),
    }
}

/// Checks that `__metadata__` is an object of strings.
fn metadata_strings(meta: &Value) -> Result<&Map<String, Value>, Error> {
    let bad = || format_fault(None, "`__metadata__` is not an object of strings".into());
    let meta = meta.as_object().ok_or_else(bad)?;
    if meta.values().all(Value::is_string) {
        Ok(meta)
    } else {
        Err(bad())
    }
}

/// Checks one tensor's entry against the network's spec; returns its data
/// offsets, whose difference is the tensor's size in bytes.
fn check_entry(spec: &Entry, entry: &Value) -> Result<(u64, u64), Error> {
    let bad = |what: &str| format_fault(Some(spec.name), format!("malformed header entry: {what}"));
    let entry = entry.as_object().ok_or_else(|| bad("not an object"))?;
    let dtype = entry
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no `dtype` string"))?;
    if dtype != spec.dtype {
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
                .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
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
        .and_then(|o| o.iter().map(Value::as_u64).collect::<Option<Vec<_>>>())
        .ok_or_else(|| bad("no `data_offsets` pair of byte offsets"))?;
    let [start, end] = offsets[..] else {
        return Err(bad("`data_offsets` is not a pair"));
    };
    let needed = spec.len as u64 * spec.width();
    if end.checked_sub(start) != Some(needed) {
        return Err(format_fault(
            Some(spec.name),
            format!(
                "data_offsets [{start}, {end}] span {} bytes, but {:?} {} needs {needed}",
                end.saturating_sub(start),
                spec.shape,
                spec.dtype,
            ),
        ));
    }
    Ok((start, end))
}

/// Checks that the data of `[start, end)` after the header lies within the
/// file of `file_len` bytes.
fn check_range(
    name: &'static str,
    start: u64,
    end: u64,
    data_start: usize,
    file_len: usize,
) -> Result<(), Error> {
    let file_end = usize::try_from(end)
        .ok()
        .and_then(|e| e.checked_add(data_start));
    match file_end {
        Some(file_end) if file_end <= file_len => Ok(()),
        Some(file_end) => Err(fault(
            Some(name),
            WeightsFault::Truncated {
                expected: file_end,
                found: file_len,
            },
        )),
        None => Err(format_fault(
            Some(name),
            format!(
                "data_offsets [{start}, {end}] lie beyond the end of any file \
                 (this one has {} bytes of data)",
                file_len - data_start
            ),
        )),
    }
}

/// Checks that the tensors' spans, each within the data, cover its
/// `data_len` bytes exactly once: sorted by offset, each starts where the
/// previous one ends, and the last ends at the end of the file.
fn check_tiling(spans: &mut [(u64, u64, &'static str)], data_len: u64) -> Result<(), Error> {
    spans.sort_unstable();
    let mut at = 0u64;
    let mut previous: Option<&'static str> = None;
    for &(start, end, name) in spans.iter() {
        let after = match previous {
            Some(p) => format!("`{p}` ends at {at}"),
            None => "the data begins at 0".to_string(),
        };
        if start > at {
            return Err(format_fault(
                Some(name),
                format!("data_offsets [{start}, {end}] leave a gap: {after}"),
            ));
        }
        if start < at {
            return Err(format_fault(
                Some(name),
                format!("data_offsets [{start}, {end}] overlap another tensor: {after}"),
            ));
        }
        at = end;
        previous = Some(name);
    }
    if at != data_len {
        return Err(format_fault(
            None,
            format!(
                "{} unexpected bytes after the tensors' data, which ends at {at}",
                data_len - at
            ),
        ));
    }
    Ok(())
}

/// An error of the `safetensors` crate's parser, named after the tensor it
/// mentions when the network has one of that name.
fn parser_fault<N: Network>(e: &SafeTensorError) -> Error {
    let tensor = match e {
        SafeTensorError::InvalidOffset(name) | SafeTensorError::TensorNotFound(name) => {
            known::<N>(name)
        }
        _ => None,
    };
    format_fault(tensor, format!("the safetensors parser refuses it ({e})"))
}

/// Reads a network from a safetensors file (see [`from_safetensors`]).
pub fn load_safetensors<N: Network>(path: &Path) -> Result<N, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    from_safetensors(&bytes)
}

/// The safetensors bytes of a network: its `state_dict()` (the parameters,
/// then the buffers, a batch norm's `num_batches_tracked` as an `I64` of
/// shape `[]`), without metadata. These are the very bytes PyTorch's
/// `safetensors.torch.save_file(model.state_dict(), path)` writes for the
/// same values: the reference implementation's order (by dtype, then by
/// name) and header.
pub fn to_safetensors<N: Network>(net: &N) -> Vec<u8> {
    serialize(net, None)
}

/// Free-form string metadata of a safetensors file: the header's
/// `__metadata__` object.
pub type Metadata = BTreeMap<String, String>;

/// [`to_safetensors`] with `metadata` in the header's `__metadata__` object
/// besides `{"format": "pt"}` (a `format` key in `metadata` replaces it),
/// its keys in order, so that the same network and metadata always give
/// the same bytes.
pub fn to_safetensors_with_metadata<N: Network>(net: &N, metadata: &Metadata) -> Vec<u8> {
    let mut meta = Metadata::new();
    meta.insert("format".to_string(), "pt".to_string());
    for (k, v) in metadata {
        meta.insert(k.clone(), v.clone());
    }
    serialize(net, Some(&meta))
}

/// Every tensor of `net` in the format's order (`I64` before `F32`, then
/// by name, as the reference implementation sorts them), the header as it
/// writes it (`dtype`, `shape`, `data_offsets`; spaces up to a multiple of
/// 8 bytes), with `metadata` first when given.
fn serialize<N: Network>(net: &N, metadata: Option<&Metadata>) -> Vec<u8> {
    let mut tensors: Vec<Entry> = entries::<N>().collect();
    tensors.sort_by(|a, b| b.width().cmp(&a.width()).then(a.name.cmp(b.name)));
    let mut header = String::from("{");
    if let Some(meta) = metadata {
        let meta: Map<String, Value> = meta
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        header.push_str(&format!("\"{METADATA_KEY}\":{}", Value::Object(meta)));
    }
    let mut offset = 0;
    for (k, spec) in tensors.iter().enumerate() {
        let name = Value::String(spec.name.to_string());
        let shape: Vec<String> = spec.shape.iter().map(|d| d.to_string()).collect();
        let bytes = spec.len * spec.width() as usize;
        let comma = if k == 0 && metadata.is_none() {
            ""
        } else {
            ","
        };
        header.push_str(&format!(
            "{comma}{name}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
            spec.dtype,
            shape.join(","),
            offset + bytes
        ));
        offset += bytes;
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header.as_bytes());
    for spec in &tensors {
        match spec.place {
            Place::Storage(at) => {
                for v in &net.storage()[at..at + spec.len] {
                    out.extend(v.to_le_bytes());
                }
            }
            Place::Counter(index) => out.extend(net.counters()[index].to_le_bytes()),
        }
    }
    out
}

/// The `__metadata__` of safetensors bytes (empty when the header has
/// none). Errors when the header itself is malformed (including a key
/// given twice in one object), or when the metadata is not an object of
/// strings, as the format requires. The tensors are not checked.
pub fn read_metadata(bytes: &[u8]) -> Result<Metadata, Error> {
    let header = parse_header(bytes)?;
    if let Some(dup) = duplicate_key(header.text) {
        return Err(duplicate_fault(dup, |_| None));
    }
    let Some(meta) = header.map.get(METADATA_KEY) else {
        return Ok(Metadata::new());
    };
    Ok(metadata_strings(meta)?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect())
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
