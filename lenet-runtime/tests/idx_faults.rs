//! Corrupt IDX files, one test per class of fault: each is an error of one
//! line that names the file and says what is wrong, raw and behind gzip.

use std::io::Write;
use std::path::Path;

use lenet_runtime::data::{idx, Dataset};

fn images(count: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut v = idx::IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [count, rows, cols] {
        v.extend(d.to_be_bytes());
    }
    v.extend((0..count * rows * cols).map(|i| (i * 7) as u8));
    v
}

fn labels(ls: &[u8]) -> Vec<u8> {
    let mut v = idx::LABELS_MAGIC.to_be_bytes().to_vec();
    v.extend((ls.len() as u32).to_be_bytes());
    v.extend(ls);
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The message of parsing `bytes` as images (`labels = false`) or labels,
/// which must fail with one line naming the file.
fn refused(bytes: &[u8], as_labels: bool) -> String {
    let path = Path::new("data/file-idx3-ubyte");
    let e = if as_labels {
        idx::parse_labels(bytes, path).map(|_| ())
    } else {
        idx::parse_images(bytes, path).map(|_| ())
    }
    .expect_err("a corrupt file")
    .to_string();
    assert!(e.starts_with("data/file-idx3-ubyte: "), "{e}");
    assert!(!e.contains('\n'), "one line: {e}");
    e
}

/// The same fault must be found raw and gzip-compressed.
fn refused_both(bytes: &[u8], as_labels: bool, says: &[&str]) {
    for (how, e) in [
        ("raw", refused(bytes, as_labels)),
        ("gzip", refused(&gzip(bytes), as_labels)),
    ] {
        for s in says {
            assert!(e.contains(s), "{how}: {e:?} should say {s:?}");
        }
    }
}

#[test]
fn a_wrong_magic_number_is_refused() {
    let mut wrong_type = images(1, 2, 2);
    wrong_type[2] = 0x0d; // float data
    refused_both(
        &wrong_type,
        false,
        &["bad magic", "IDX of type 0x0d with 3 dimensions"],
    );
    let mut wrong_dims = images(1, 2, 2);
    wrong_dims[3] = 2;
    refused_both(&wrong_dims, false, &["bad magic", "with 2 dimensions"]);
    let mut not_zero = images(1, 2, 2);
    not_zero[0] = 1;
    refused_both(&not_zero, false, &["bad magic", "not an IDX file"]);
    refused_both(
        &labels(&[1]),
        false,
        &["expected 2051", "an IDX label file"],
    );
    refused_both(
        &images(1, 1, 1),
        true,
        &["expected 2049", "an IDX image file"],
    );
    // gzip inside gzip is not unwrapped twice.
    let e = refused(&gzip(&gzip(&images(1, 2, 2))), false);
    assert!(e.contains("gzip inside gzip"), "{e}");
}

#[test]
fn zero_sized_images_are_refused() {
    refused_both(&images(3, 0, 28), false, &["unexpected dimensions", "0×28"]);
    refused_both(&images(3, 28, 0), false, &["unexpected dimensions", "28×0"]);
    // No images at all is a valid, empty file.
    assert_eq!(
        idx::parse_images(&images(0, 28, 28), Path::new("x"))
            .unwrap()
            .pixels
            .len(),
        0
    );
}

#[test]
fn dimensions_whose_product_overflows_are_refused() {
    let mut h = idx::IMAGES_MAGIC.to_be_bytes().to_vec();
    for _ in 0..3 {
        h.extend(u32::MAX.to_be_bytes());
    }
    // 2^32 · 2^32 · 2^32 does not fit 64 bits.
    refused_both(&h, false, &["unexpected dimensions", "overflows"]);
}

#[test]
fn counts_announcing_more_than_the_file_holds_are_refused() {
    let mut img = images(2, 3, 3);
    img[4..8].copy_from_slice(&3u32.to_be_bytes());
    refused_both(&img, false, &["truncated", "3 images of 3×3 = 27 bytes"]);
    let mut lab = labels(&[1, 2, 3]);
    lab[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    refused_both(&lab, true, &["truncated", "4294967295 labels"]);
}

#[test]
fn a_truncated_header_is_refused_at_every_length() {
    let img = images(1, 2, 2);
    for n in 0..16 {
        refused_both(&img[..n], false, &["truncated", "header needs 16"]);
    }
    let lab = labels(&[1]);
    for n in 0..8 {
        refused_both(&lab[..n], true, &["truncated", "header needs 8"]);
    }
}

#[test]
fn truncated_data_says_bytes_announced_and_present() {
    let img = images(3, 4, 4);
    for cut in [1, 15, 47] {
        refused_both(
            &img[..img.len() - cut],
            false,
            &["truncated", "= 48 bytes", &format!("{} present", 48 - cut)],
        );
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let mut img = images(1, 2, 2);
    img.extend([0; 5]);
    refused_both(&img, false, &["5 unexpected bytes after the 4 bytes"]);
    let mut lab = labels(&[1, 2]);
    lab.push(3);
    refused_both(&lab, true, &["1 unexpected bytes after the 2 bytes"]);
}

#[test]
fn a_corrupt_gzip_stream_is_refused() {
    let gz = gzip(&images(20, 28, 28));
    // Cut inside the deflate data, and just before the trailer.
    for cut in [gz.len() / 2, gz.len() - 4, 12] {
        let e = refused(&gz[..cut], false);
        assert!(e.contains("gzip"), "{e}");
    }
    // A damaged deflate block, and a wrong CRC in the trailer.
    let mut bad = gz.clone();
    bad[20] ^= 0xff;
    let e = refused(&bad, false);
    assert!(
        e.contains("gzip") || e.contains("bad magic") || e.contains("truncated"),
        "{e}"
    );
    let mut crc = gz.clone();
    let n = crc.len();
    crc[n - 8] ^= 1;
    let e = refused(&crc, false);
    assert!(e.contains("corrupt gzip stream"), "{e}");
    // Garbage after the gzip member.
    let mut tail = gz;
    tail.extend(b"garbage");
    let e = refused(&tail, false);
    assert!(e.contains("gzip"), "{e}");
}

#[test]
fn a_gzip_bomb_is_refused_before_it_is_inflated() {
    // 1 KiB of gzip cannot hold 2^32 · 28 · 28 bytes: refused from the
    // header alone.
    let mut bomb = images(0, 28, 28);
    bomb[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    bomb.extend(vec![0; 1 << 20]);
    let gz = gzip(&bomb);
    assert!(gz.len() < 4096, "{}", gz.len());
    let e = refused(&gz, false);
    assert!(
        e.contains("more than a gzip file of this size can hold"),
        "{e}"
    );
}

#[test]
fn labels_at_or_above_the_classes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (i, l) = (dir.path().join("images"), dir.path().join("labels"));
    std::fs::write(&i, images(3, 2, 2)).unwrap();
    for bad in [10u8, 11, 255] {
        std::fs::write(&l, gzip(&labels(&[0, 9, bad]))).unwrap();
        let e = Dataset::load(&i, &l).unwrap_err().to_string();
        assert!(
            e.starts_with(&*l.to_string_lossy())
                && e.contains(&format!("label {bad} at index 2 is not a class 0–9")),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
    std::fs::write(&l, labels(&[0, 9, 5])).unwrap();
    assert_eq!(Dataset::load(&i, &l).unwrap().labels, [0, 9, 5]);
}

#[test]
fn image_and_label_counts_must_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (i, l) = (dir.path().join("images"), dir.path().join("labels"));
    std::fs::write(&i, images(3, 2, 2)).unwrap();
    std::fs::write(&l, labels(&[0, 1, 2, 3])).unwrap();
    let e = Dataset::load(&i, &l).unwrap_err().to_string();
    assert!(
        e.contains("4 labels, but") && e.contains("holds 3 images"),
        "{e}"
    );
}
