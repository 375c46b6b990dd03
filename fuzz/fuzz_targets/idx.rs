//! The IDX reader on arbitrary bytes, as images and as labels: as given
//! (raw, or gzip when the bytes start with its magic) and compressed with
//! gzip first, so that the header checks also run behind a valid gzip
//! stream. Whatever the bytes: an error naming the file or the data the
//! header announces, never a panic, never an allocation beyond
//! `-malloc_limit_mb`.

#![no_main]

use std::io::Write;
use std::path::Path;

use lenet_runtime::data::idx;
use libfuzzer_sys::fuzz_target;

fn check(bytes: &[u8]) {
    let path = Path::new("fuzz.idx");
    match idx::parse_images(bytes, path) {
        Ok(img) => assert_eq!(img.pixels.len(), img.count * img.rows * img.cols),
        Err(e) => assert!(e.to_string().starts_with("fuzz.idx: "), "{e}"),
    }
    match idx::parse_labels(bytes, path) {
        Ok(_) => {}
        Err(e) => assert!(e.to_string().starts_with("fuzz.idx: "), "{e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    check(&gz.finish().unwrap());
});
