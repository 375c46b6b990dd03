//! IDX files, the format of MNIST and Fashion-MNIST: a big-endian header
//! (`00 00 08 ndims`, then one `u32` per dimension) followed by the values as
//! `u8`, raw or gzip-compressed.
//!
//! Gzip is recognised by its magic bytes (`1f 8b`), not by the file name.
//! Every size the header announces is checked against the bytes that can
//! actually be there *before* anything is allocated, so a corrupt or hostile
//! header cannot make the reader reserve gigabytes.

use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// Magic number of an IDX file of `u8` images (`00 00 08 03`).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of `u8` labels (`00 00 08 01`).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// The two bytes every gzip stream starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Deflate cannot compress better than about 1032:1, so a gzip file of `n`
/// bytes holds at most this many times `n` bytes (plus a small constant).
const MAX_GZIP_RATIO: u64 = 1032;

/// The images of an IDX image file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Number of images.
    pub count: usize,
    /// Rows of one image.
    pub rows: usize,
    /// Columns of one image.
    pub cols: usize,
    /// `count · rows · cols` pixels, image after image, row-major.
    pub pixels: Vec<u8>,
}

/// Which of the two IDX files the caller expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Images,
    Labels,
}

impl Kind {
    fn magic(self) -> u32 {
        match self {
            Kind::Images => IMAGES_MAGIC,
            Kind::Labels => LABELS_MAGIC,
        }
    }
    fn ndims(self) -> usize {
        match self {
            Kind::Images => 3,
            Kind::Labels => 1,
        }
    }
    fn header_len(self) -> usize {
        4 + 4 * self.ndims()
    }
    fn what(self) -> &'static str {
        match self {
            Kind::Images => "IDX image",
            Kind::Labels => "IDX label",
        }
    }
}

/// Reads an IDX image file (magic 2051), raw or gzip.
pub fn read_images(path: &Path) -> Result<Images, Error> {
    let bytes = read_file(path)?;
    parse_images(&bytes, path)
}

/// Reads an IDX label file (magic 2049), raw or gzip.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, Error> {
    let bytes = read_file(path)?;
    parse_labels(&bytes, path)
}

/// Parses the bytes of an IDX image file, raw or gzip. `path` only names the
/// file in errors.
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<Images, Error> {
    let (dims, pixels) = decode(bytes, Kind::Images).map_err(|reason| idx_error(path, reason))?;
    Ok(Images {
        count: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels,
    })
}

/// Parses the bytes of an IDX label file, raw or gzip. `path` only names the
/// file in errors.
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, Error> {
    let (_, labels) = decode(bytes, Kind::Labels).map_err(|reason| idx_error(path, reason))?;
    Ok(labels)
}

fn idx_error(path: &Path, reason: String) -> Error {
    Error::Idx {
        path: path.to_path_buf(),
        reason,
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The dimensions and the values of an IDX file of the expected kind.
fn decode(bytes: &[u8], kind: Kind) -> Result<(Vec<usize>, Vec<u8>), String> {
    if bytes.starts_with(&GZIP_MAGIC) {
        let limit = (bytes.len() as u64)
            .saturating_mul(MAX_GZIP_RATIO)
            .saturating_add(1 << 16);
        decode_stream(flate2::read::MultiGzDecoder::new(bytes), limit, true, kind)
    } else {
        decode_stream(bytes, bytes.len() as u64, false, kind)
    }
}

/// Reads header and values from `r`, which can yield at most `limit` bytes.
fn decode_stream<R: Read>(
    mut r: R,
    limit: u64,
    gzip: bool,
    kind: Kind,
) -> Result<(Vec<usize>, Vec<u8>), String> {
    let stream = if gzip { "gzip stream" } else { "file" };
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut r, &mut magic).map_err(|e| gzip_fault(&e))?;
    if got < 4 {
        return Err(format!(
            "truncated: the {stream} holds {got} bytes, an {} header needs {}",
            kind.what(),
            kind.header_len()
        ));
    }
    let found = u32::from_be_bytes(magic);
    if found != kind.magic() {
        return Err(format!(
            "bad magic: expected {} (0x{:08x}, {} file of u8), found {found} (0x{found:08x}, {})",
            kind.magic(),
            kind.magic(),
            kind.what(),
            describe_magic(magic)
        ));
    }
    let mut dims_raw = [0u8; 12];
    let dims_raw = &mut dims_raw[..4 * kind.ndims()];
    let got = read_up_to(&mut r, dims_raw).map_err(|e| gzip_fault(&e))?;
    if got < dims_raw.len() {
        return Err(format!(
            "truncated: the {stream} holds {} bytes, an {} header needs {}",
            4 + got,
            kind.what(),
            kind.header_len()
        ));
    }
    let dims: Vec<usize> = dims_raw
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    if kind == Kind::Images && (dims[1] == 0 || dims[2] == 0) {
        return Err(format!(
            "unexpected dimensions: images of {}×{} pixels",
            dims[1], dims[2]
        ));
    }
    let announced = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    let Some(announced) = announced else {
        return Err(format!("unexpected dimensions: {dims:?} overflows"));
    };
    let room = limit.saturating_sub(kind.header_len() as u64);
    let shape = describe_dims(kind, &dims);
    if announced > room {
        return Err(if gzip {
            format!(
                "truncated: the header announces {shape} = {announced} bytes, \
                 more than a gzip file of this size can hold (at most {room})"
            )
        } else {
            format!(
                "truncated: the header announces {shape} = {announced} bytes after the \
                 {}-byte header, {room} present",
                kind.header_len()
            )
        });
    }
    // A raw file holds the announced bytes (checked above): reserve them at
    // once. A gzip stream proves its size only by decompressing, so the
    // buffer grows with the data that actually arrives.
    let known = if gzip { 0 } else { announced };
    let values = match read_growing(&mut r, announced, known) {
        Ok(values) => values,
        Err((e, present)) => {
            return Err(format!(
                "{} after {present} of the {announced} bytes the header announces ({shape})",
                gzip_fault(&e),
            ))
        }
    };
    let present = values.len() as u64;
    if present < announced {
        return Err(format!(
            "truncated: the header announces {shape} = {announced} bytes, {present} present"
        ));
    }
    // One byte more: trailing data, or the end of the stream, where a gzip
    // stream's trailer (its CRC and length) is checked.
    let mut probe = [0u8; 1];
    let more = read_up_to(&mut r, &mut probe).map_err(|e| {
        format!(
            "{} after the {announced} bytes the header announces ({shape})",
            gzip_fault(&e)
        )
    })?;
    if more > 0 {
        let rest = 1 + std::io::copy(&mut r.take(limit), &mut std::io::sink()).unwrap_or(0);
        return Err(format!(
            "{rest} unexpected bytes after the {announced} bytes the header announces ({shape})"
        ));
    }
    Ok((dims, values))
}

/// Smallest step by which [`read_growing`] extends its buffer.
const GROW_STEP: usize = 64 << 10;

/// Reads up to `n` bytes from `r`, fewer if it ends first. `known` of them
/// are certainly there and reserved at once; beyond those the buffer grows
/// only when full, by a quarter of what it holds (at least [`GROW_STEP`],
/// at most what is still missing), so its capacity never exceeds the bytes
/// actually read by more than that step, whatever `n` says. On a read
/// error, returns it with the number of bytes read before.
fn read_growing<R: Read>(
    r: &mut R,
    n: u64,
    known: u64,
) -> Result<Vec<u8>, (std::io::Error, usize)> {
    let oom = |filled| {
        (
            std::io::Error::new(std::io::ErrorKind::OutOfMemory, "cannot allocate"),
            filled,
        )
    };
    let mut out = Vec::new();
    let mut filled = 0usize;
    let mut first = usize::try_from(known.min(n)).map_err(|_| oom(0))?;
    while (filled as u64) < n {
        if filled == out.len() {
            let step = if first > 0 {
                std::mem::take(&mut first)
            } else {
                let step = (filled / 4).max(GROW_STEP) as u64;
                step.min(n - filled as u64) as usize
            };
            out.try_reserve_exact(step).map_err(|_| oom(filled))?;
            out.resize(filled + step, 0);
        }
        match r.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err((e, filled)),
        }
    }
    out.truncate(filled);
    Ok(out)
}

/// Fills as much of `buf` as the reader has; returns how much that was.
fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn gzip_fault(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "truncated gzip stream".to_string()
    } else {
        format!("corrupt gzip stream ({e})")
    }
}

fn describe_magic(m: [u8; 4]) -> String {
    match u32::from_be_bytes(m) {
        IMAGES_MAGIC => "an IDX image file".into(),
        LABELS_MAGIC => "an IDX label file".into(),
        _ if m[0] == 0 && m[1] == 0 => {
            format!("IDX of type 0x{:02x} with {} dimensions", m[2], m[3])
        }
        _ if m[..2] == GZIP_MAGIC => "gzip inside gzip".into(),
        _ => "not an IDX file".into(),
    }
}

fn describe_dims(kind: Kind, dims: &[usize]) -> String {
    match kind {
        Kind::Images => format!("{} images of {}×{}", dims[0], dims[1], dims[2]),
        Kind::Labels => format!("{} labels", dims[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(count: u32, rows: u32, cols: u32) -> Vec<u8> {
        let mut v = IMAGES_MAGIC.to_be_bytes().to_vec();
        for d in [count, rows, cols] {
            v.extend(d.to_be_bytes());
        }
        v.extend((0..count * rows * cols).map(|i| i as u8));
        v
    }

    #[test]
    fn reads_a_small_raw_file() {
        let img = parse_images(&images(2, 3, 4), Path::new("x")).unwrap();
        assert_eq!((img.count, img.rows, img.cols), (2, 3, 4));
        assert_eq!(img.pixels, (0..24).collect::<Vec<u8>>());
    }

    #[test]
    fn huge_counts_are_refused_before_allocating() {
        let mut v = images(1, 28, 28);
        v[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        let e = parse_images(&v, Path::new("x")).unwrap_err().to_string();
        assert!(
            e.contains("truncated") && e.contains("4294967295 images"),
            "{e}"
        );
    }
}
