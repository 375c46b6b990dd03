//! The IDX reader allocates for the data a file holds, not for the sizes
//! its header announces: a gzip bomb or a lying header costs at most a
//! small multiple of the bytes actually decompressed.
//!
//! Each case runs in a process of its own (this test binary, run again for
//! that case alone), so that nothing else allocates beside it and the peak
//! the allocator records is the parse's.

use std::alloc::System;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use cap::Cap;
use lenet_runtime::data::idx;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

fn gzip(bytes: &[u8]) -> Vec<u8> {
    gzip_at(bytes, flate2::Compression::best())
}

fn gzip_at(bytes: &[u8], level: flate2::Compression) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn header(count: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut v = idx::IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [count, rows, cols] {
        v.extend(d.to_be_bytes());
    }
    v
}

/// Parses `bytes` as IDX images; returns the result's message (or the
/// pixel count) and the most the parse had allocated at once beyond what
/// was allocated before it.
fn peak_of(bytes: &[u8]) -> (Result<usize, String>, usize) {
    let before = ALLOCATOR.allocated();
    // Nothing here legitimately needs more than 64 MiB: an allocation
    // beyond fails (and aborts the process) instead of passing unnoticed.
    ALLOCATOR.set_limit(before + (64 << 20)).unwrap();
    let r = idx::parse_images(bytes, Path::new("bomb"))
        .map(|i| i.pixels.len())
        .map_err(|e| e.to_string());
    ALLOCATOR.set_limit(usize::MAX).unwrap();
    (r, ALLOCATOR.max_allocated().saturating_sub(before))
}

const MIB: usize = 1 << 20;

/// The cases, each run alone in a child process by
/// [`allocation_follows_the_data_not_the_header`].
const CASES: &[(&str, fn())] = &[
    ("gzip announcing 1032 times its size", lying_gzip_header),
    ("gzip bomb", gzip_bomb),
    ("gzip announcing 4 GB", huge_gzip_header),
    ("raw file announcing 4 GB", huge_raw_header),
    ("valid gzip file", valid_gzip),
];

#[test]
fn allocation_follows_the_data_not_the_header() {
    let exe = std::env::current_exe().unwrap();
    for (i, (name, _)) in CASES.iter().enumerate() {
        let out = Command::new(&exe)
            .args(["--exact", "child_runs_one_case", "--nocapture"])
            .env("LENET_IDX_ALLOC_CASE", i.to_string())
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {}\n{log}", out.status);
        assert!(
            log.contains("1 passed"),
            "{name}: the case did not run\n{log}"
        );
    }
}

/// Child mode of [`allocation_follows_the_data_not_the_header`].
#[test]
fn child_runs_one_case() {
    if let Ok(i) = std::env::var("LENET_IDX_ALLOC_CASE") {
        let (name, case) = CASES[i.parse::<usize>().unwrap()];
        case();
        println!("{name}: ok");
    }
}

fn lying_gzip_header() {
    // A header announcing all that a gzip file could hold at 1032:1: 1 MiB
    // of pixels stored uncompressed make a file of about 1 MiB, whose header
    // announces about 1 GiB. Only the 1 MiB arrives.
    let present = MIB;
    let stored = |count: u32| {
        gzip_at(
            &[header(count, 28, 28), vec![9; present]].concat(),
            flate2::Compression::none(),
        )
    };
    let room = stored(1).len() * 1032 + (1 << 16) - 16;
    let count = (room / 784) as u32;
    let lying = stored(count);
    let announced = count as usize * 784;
    assert!(announced > 1000 * present, "{announced}");
    let (r, peak) = peak_of(&lying);
    let e = r.unwrap_err();
    assert!(
        e.starts_with("bomb: truncated") && e.contains(&format!("{present} present")),
        "{e}"
    );
    // The file, what was read, a quarter more of growth, and the copy while
    // it grows.
    assert!(
        peak <= lying.len() + present * 5 / 2 + MIB,
        "peak {peak} bytes for {present} present and {announced} announced"
    );
}

fn gzip_bomb() {
    // A gzip bomb: 8 MiB of zeros compress to about 8 KiB; the header
    // announces as much as such a file could hold, a little more.
    let present = 8 * MIB;
    let room = gzip(&[header(1, 28, 28), vec![0; present]].concat()).len() * 1032 + (1 << 16);
    let count = ((room - 16) / 784) as u32;
    assert!(count as usize * 784 > present);
    let bomb = gzip(&[header(count, 28, 28), vec![0; present]].concat());
    let (r, peak) = peak_of(&bomb);
    let e = r.unwrap_err();
    assert!(e.contains(&format!("{present} present")), "{e}");
    assert!(
        peak <= present * 5 / 2 + MIB,
        "peak {peak} for {present} present"
    );
}

fn huge_gzip_header() {
    // A header announcing 4 GB in a 2 KiB gzip file: refused before reading.
    let (r, peak) = peak_of(&gzip(&[header(u32::MAX, 1, 1), vec![7; 2048]].concat()));
    assert!(r.unwrap_err().contains("more than a gzip file"));
    assert!(peak < MIB, "{peak}");
}

fn huge_raw_header() {
    // The same announcement in a raw file: refused with nothing reserved.
    let (r, peak) = peak_of(&[header(u32::MAX, 28, 28), vec![7; 2048]].concat());
    assert!(r.unwrap_err().contains("truncated"));
    assert!(peak < 64 << 10, "{peak}");
}

fn valid_gzip() {
    // A valid gzip file costs its data and a bounded overshoot, no more.
    let data = 3 * MIB;
    let pixels: Vec<u8> = (0..data).map(|i| (i * 31 % 251) as u8).collect();
    let ok = gzip(
        &[
            header((data / 784) as u32, 28, 28),
            pixels[..data / 784 * 784].to_vec(),
        ]
        .concat(),
    );
    let (r, peak) = peak_of(&ok);
    assert_eq!(r.unwrap(), data / 784 * 784);
    assert!(peak <= data * 5 / 2 + MIB, "{peak}");
}
