//! Mutated IDX files: whatever the bytes, the reader returns `Ok` or `Err`,
//! never panics, and never allocates more than the input could hold.

use std::alloc::System;
use std::io::Write;
use std::path::Path;

use cap::Cap;
use lenet_runtime::data::idx;
use proptest::prelude::*;

/// The system allocator with a ceiling: a request beyond it fails, which
/// aborts the test process, so an absurd allocation cannot pass unnoticed.
#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Far above what any input here legitimately needs (a few KiB, at most
/// 1032 times a gzip file of a few KiB), far below what a header announcing
/// billions of images would ask for.
const CEILING: usize = 256 << 20;

fn valid_images() -> Vec<u8> {
    let mut v = idx::IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [5u32, 28, 28] {
        v.extend(d.to_be_bytes());
    }
    v.extend((0..5 * 784).map(|i| (i % 251) as u8));
    v
}

fn valid_labels() -> Vec<u8> {
    let mut v = idx::LABELS_MAGIC.to_be_bytes().to_vec();
    v.extend(5u32.to_be_bytes());
    v.extend([3, 1, 4, 1, 5]);
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    HeaderWord(usize, u32),
    Append(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        // Words of the header: magic, count, rows, cols, with extreme values.
        (0usize..4, prop_oneof![Just(u32::MAX), Just(0), Just(0x8000_0000), any::<u32>()])
            .prop_map(|(w, v)| Mutation::HeaderWord(w, v)),
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Append),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        match m {
            Mutation::Truncate(n) => {
                let n = if bytes.is_empty() { 0 } else { n % bytes.len() };
                bytes.truncate(n);
            }
            Mutation::Flip(i, x) if !bytes.is_empty() => {
                let i = i % bytes.len();
                bytes[i] ^= x;
            }
            Mutation::HeaderWord(w, v) if bytes.len() >= 4 * (w + 1) => {
                bytes[4 * w..4 * (w + 1)].copy_from_slice(&v.to_be_bytes());
            }
            Mutation::Append(extra) => bytes.extend(extra),
            _ => {}
        }
    }
    bytes
}

/// Parses as both kinds under the allocation ceiling; errors name the file.
fn check(bytes: &[u8]) {
    ALLOCATOR.set_limit(CEILING).expect("the tests themselves stay far below the ceiling");
    let a = idx::parse_images(bytes, Path::new("fuzz"));
    let b = idx::parse_labels(bytes, Path::new("fuzz"));
    for e in [a.err(), b.err()].into_iter().flatten() {
        assert!(e.to_string().starts_with("fuzz: "), "{e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mutated_raw_files_never_panic(muts in proptest::collection::vec(mutation(), 1..4), labels in any::<bool>()) {
        let base = if labels { valid_labels() } else { valid_images() };
        check(&apply(base, &muts));
    }

    #[test]
    fn mutated_gzip_files_never_panic(muts in proptest::collection::vec(mutation(), 1..4), inner in any::<bool>()) {
        // Mutate the content before compressing, or the compressed bytes.
        let bytes = if inner {
            gzip(&apply(valid_images(), &muts))
        } else {
            apply(gzip(&valid_images()), &muts)
        };
        check(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        check(&bytes);
    }
}

#[test]
fn the_unmutated_files_parse() {
    let img = idx::parse_images(&gzip(&valid_images()), Path::new("x")).unwrap();
    assert_eq!((img.count, img.rows, img.cols, img.pixels.len()), (5, 28, 28, 5 * 784));
    assert_eq!(idx::parse_labels(&valid_labels(), Path::new("x")).unwrap(), [3, 1, 4, 1, 5]);
}

#[test]
fn a_header_announcing_gigabytes_allocates_nothing_big() {
    for (count, rows) in [(u32::MAX, 28), (u32::MAX, u32::MAX), (40_000, 28)] {
        let mut bytes = valid_images();
        bytes[4..8].copy_from_slice(&count.to_be_bytes());
        bytes[8..12].copy_from_slice(&rows.to_be_bytes());
        check(&bytes);
        check(&gzip(&bytes));
    }
    assert!(ALLOCATOR.allocated() < CEILING);
}
