//! The specification of the mask: a counter-based hash, no state.

/// SplitMix64's finaliser: a bijection of `u64` that mixes every bit.
pub const fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// MurmurHash3's 32-bit finaliser: a bijection of `u32`.
#[inline(always)]
pub fn mix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// The key of image `image` of the batch under `seed`.
pub fn image_key(seed: u64, image: usize) -> u32 {
    (mix64(seed ^ mix64(image as u64)) >> 32) as u32
}

/// `⌊p · 2³²⌋`: a value is dropped when its hash is below it.
pub fn threshold(p: f32) -> u32 {
    let t = p as f64 * 4_294_967_296.0;
    // `as` truncates: the floor of a positive `t`; NaN keeps everything.
    if t.is_nan() || t <= 0.0 {
        0
    } else if t >= u32::MAX as f64 {
        u32::MAX
    } else {
        t as u32
    }
}

/// Whether value `j` of the image with key `key` is kept: its hash (distinct
/// for distinct `j` below 2³²) is at least `threshold`.
#[inline(always)]
pub fn keeps(threshold: u32, key: u32, j: usize) -> bool {
    mix32(key ^ (j as u32).wrapping_mul(0x9e37_79b9)) >= threshold
}

/// `1 / (1 − p)`, the scale of the kept values.
pub fn scale(p: f32) -> f32 {
    1.0 / (1.0 - p)
}

/// `y[j] = x[j] · (keeps(j) ? 1 / (1 − p) : 0)` over one image's values.
#[inline(always)]
pub fn apply(p: f32, key: u32, x: &[f32], y: &mut [f32]) {
    let (t, s) = (threshold(p), scale(p));
    for (j, (y, &x)) in y.iter_mut().zip(x).enumerate() {
        *y = x * if keeps(t, key, j) { s } else { 0.0 };
    }
}
