//! IDX files: the bundled digits, both file-name spellings, raw and gzip,
//! and every fault named with its file.

use std::io::Write;
use std::path::{Path, PathBuf};

use lenet_runtime::data::{idx, load_dir, Dataset, Transform, MNIST_MEAN, MNIST_STD};

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

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

fn err_images(bytes: &[u8]) -> String {
    idx::parse_images(bytes, Path::new("some/file")).unwrap_err().to_string()
}

#[test]
fn bundled_digits_load_with_the_documented_class_counts() {
    let split = load_dir(&bundled()).unwrap();
    assert_eq!((split.train.len(), split.test.len()), (8000, 2000));
    assert_eq!((split.train.rows, split.train.cols), (28, 28));
    let count = |d: &Dataset| {
        let mut c = [0usize; 10];
        d.labels.iter().for_each(|&l| c[l as usize] += 1);
        c
    };
    assert_eq!(count(&split.train), [801, 902, 793, 826, 784, 690, 811, 856, 755, 782]);
    assert_eq!(count(&split.test), [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
    // Digits are white on black: the background dominates.
    let zeros = split.test.images.iter().filter(|&&p| p == 0).count();
    assert!(zeros * 10 > split.test.images.len() * 7, "{zeros}");
}

#[test]
fn both_spellings_raw_and_gzip_give_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let img = images(3, 28, 28);
    let lab = labels(&[1, 2, 3]);
    // Raw, dotted spelling for train; gzip, dashed spelling with a misleading
    // lack of `.gz` for test: detection is by content.
    std::fs::write(dir.path().join("train-images.idx3-ubyte"), &img).unwrap();
    std::fs::write(dir.path().join("train-labels.idx1-ubyte"), &lab).unwrap();
    std::fs::write(dir.path().join("t10k-images-idx3-ubyte"), gzip(&img)).unwrap();
    std::fs::write(dir.path().join("t10k-labels-idx1-ubyte.gz"), gzip(&lab)).unwrap();
    let split = load_dir(dir.path()).unwrap();
    assert_eq!(split.train, split.test);
    assert_eq!(split.train.labels, [1, 2, 3]);
    assert_eq!(split.train.image(1), &img[16 + 784..16 + 2 * 784]);
}

#[test]
fn a_missing_file_names_the_spellings_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_dir(dir.path()).unwrap_err().to_string();
    assert!(e.contains("no train images"), "{e}");
    assert!(e.contains("train-images-idx3-ubyte[.gz]") && e.contains("train-images.idx3-ubyte[.gz]"), "{e}");
    let e = load_dir(&dir.path().join("nope")).unwrap_err().to_string();
    assert!(e.contains("nope") && e.contains("not a directory"), "{e}");
}

#[test]
fn bad_magic_says_what_was_found() {
    let e = err_images(&labels(&[1, 2]));
    assert!(e.starts_with("some/file: bad magic"), "{e}");
    assert!(e.contains("expected 2051") && e.contains("found 2049") && e.contains("label file"), "{e}");
    let e = err_images(b"PK\x03\x04 a zip file, not IDX at all");
    assert!(e.contains("bad magic") && e.contains("not an IDX file"), "{e}");
    let e = idx::parse_labels(&images(1, 2, 2), Path::new("l")).unwrap_err().to_string();
    assert!(e.contains("expected 2049") && e.contains("image file"), "{e}");
}

#[test]
fn truncation_says_bytes_expected_and_present() {
    let img = images(4, 5, 6);
    let e = err_images(&img[..img.len() - 10]);
    assert!(e.contains("truncated") && e.contains("4 images of 5×6 = 120 bytes") && e.contains("110 present"), "{e}");
    let e = err_images(&img[..9]);
    assert!(e.contains("truncated") && e.contains("holds 9 bytes") && e.contains("needs 16"), "{e}");
    let e = err_images(&[]);
    assert!(e.contains("truncated") && e.contains("holds 0 bytes"), "{e}");
    // The same through gzip: the stream decompresses fine but is short.
    let e = err_images(&gzip(&img[..img.len() - 10]));
    assert!(e.contains("truncated") && e.contains("110 present"), "{e}");
    // And a gzip file cut in the middle of its deflate stream.
    let gz = gzip(&images(50, 28, 28));
    let e = err_images(&gz[..gz.len() / 2]);
    assert!(e.contains("gzip"), "{e}");
}

#[test]
fn trailing_bytes_and_zero_sized_images_are_refused() {
    let mut img = images(2, 3, 3);
    img.extend([1, 2, 3]);
    let e = err_images(&img);
    assert!(e.contains("3 unexpected bytes after the 18 bytes"), "{e}");
    let e = err_images(&images(2, 0, 3));
    assert!(e.contains("unexpected dimensions") && e.contains("0×3"), "{e}");
}

#[test]
fn huge_header_counts_fail_without_allocating() {
    let mut img = images(1, 28, 28);
    img[4..8].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    let e = err_images(&img);
    assert!(e.contains("truncated") && e.contains("2147483647 images"), "{e}");
    let e = err_images(&gzip(&img));
    assert!(e.contains("more than a gzip file of this size can hold"), "{e}");
}

#[test]
fn images_and_labels_must_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (i, l) = (dir.path().join("i"), dir.path().join("l"));
    std::fs::write(&i, images(3, 2, 2)).unwrap();
    std::fs::write(&l, labels(&[0, 1])).unwrap();
    let e = Dataset::load(&i, &l).unwrap_err().to_string();
    assert!(e.contains("2 labels") && e.contains("3 images") && e.contains(&*i.to_string_lossy()), "{e}");
    std::fs::write(&l, labels(&[0, 12, 1])).unwrap();
    let e = Dataset::load(&i, &l).unwrap_err().to_string();
    assert!(e.contains("label 12 at index 1"), "{e}");
    let e = Dataset::load(&dir.path().join("absent"), &l).unwrap_err().to_string();
    assert!(e.contains("absent"), "{e}");
}

#[test]
fn transform_pads_28_to_32_with_normalised_background() {
    let split = load_dir(&bundled()).unwrap();
    let t = Transform::new(28, 28).pad_to(32, 32).normalize(MNIST_MEAN, MNIST_STD);
    t.check(28, 28).unwrap();
    let (mut x, mut y) = (Vec::new(), Vec::new());
    t.batch(&split.test, &[0, 5], &mut x, &mut y);
    assert_eq!(x.len(), 2 * 1024);
    assert_eq!(y, [split.test.label(0), split.test.label(5)]);
    let bg = -MNIST_MEAN / MNIST_STD;
    // Two rows and two columns of border on each side.
    assert!(x[..64].iter().all(|&v| v == bg));
    assert_eq!(x[2 * 32 + 2 + 28 * 32 - 32 + 5], (split.test.image(0)[27 * 28 + 5] as f32 / 255.0 - MNIST_MEAN) / MNIST_STD);
    let mean: f32 = x.iter().sum::<f32>() / x.len() as f32;
    assert!(mean.abs() < 0.5, "{mean}");
}
