//! Data augmentation: each training image moved by a random shift and a
//! small random rotation before it is padded and normalised, a fresh draw
//! every epoch.
//!
//! The draw of image `i` in epoch `e` depends only on the seed, `e` and
//! `i`, so a run is the same whatever the thread count and the order in
//! which threads reach the images.

use lenet::data::{Dataset, Transform};
use lenet::init::SplitMix64;

/// Largest `(rows + 2) · (cols + 2)` the augmentation handles on the stack
/// (images up to 62×62; larger ones pass through unmoved).
const MAX_PADDED: usize = 64 * 64;

/// Random shifts and rotations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Augment {
    /// Largest shift, in pixels, along each axis (uniform in `[−s, s]`).
    pub shift: f32,
    /// Largest rotation, in degrees (uniform in `[−r, r]`).
    pub rotate: f32,
    /// Seed of the draws.
    pub seed: u64,
}

impl Augment {
    /// Whether it changes anything.
    pub fn is_on(&self) -> bool {
        self.shift > 0.0 || self.rotate > 0.0
    }

    /// In words, for the log and the weights' metadata.
    pub fn describe(&self) -> String {
        if self.is_on() {
            format!("shift ±{} px, rotate ±{}°", self.shift, self.rotate)
        } else {
            "none".into()
        }
    }

    /// `(dx, dy, angle in radians)` for image `index` in `epoch`.
    fn draw(&self, epoch: usize, index: usize) -> (f32, f32, f32) {
        let mut rng = SplitMix64::new(
            self.seed
                ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                ^ (index as u64).wrapping_mul(0xd1b5_4a32_d192_ed03),
        );
        // One draw to decorrelate the seeds' low bits.
        rng.next_u64();
        let mut uniform = || 2.0 * rng.next_f32() - 1.0;
        let dx = self.shift * uniform();
        let dy = self.shift * uniform();
        let angle = self.rotate.to_radians() * uniform();
        (dx, dy, angle)
    }

    /// Image `index` of `data` moved as drawn for `epoch`, then padded and
    /// normalised as `t` does, into `out`. Bilinear interpolation; what
    /// comes from outside the image is background.
    pub fn apply(
        &self,
        t: &Transform,
        data: &Dataset,
        index: usize,
        epoch: usize,
        out: &mut [f32],
    ) {
        let (pixels, rows, cols) = (data.image(index), data.rows, data.cols);
        if !self.is_on() || (rows + 2) * (cols + 2) > MAX_PADDED {
            t.apply(pixels, rows, cols, out);
            return;
        }
        let (dx, dy, angle) = self.draw(epoch, index);
        let (sin, cos) = angle.sin_cos();
        // The image as floats already normalised, in a frame one pixel wider
        // on every side, so that the four neighbours of any point that is
        // not wholly background are inside it.
        let scale = 1.0 / (255.0 * t.std);
        let background = -t.mean / t.std;
        let pw = cols + 2;
        let mut src = [background; MAX_PADDED];
        let src = &mut src[..(rows + 2) * pw];
        for (r, row) in pixels.chunks_exact(cols).take(rows).enumerate() {
            for (o, &p) in src[(r + 1) * pw + 1..][..cols].iter_mut().zip(row) {
                *o = f32::from(p) * scale + background;
            }
        }
        let top = ((t.height - rows) / 2) as f32;
        let left = ((t.width - cols) / 2) as f32;
        // Rotate about the image's centre, in the frame's coordinates.
        let cy = top + (rows as f32 - 1.0) / 2.0;
        let cx = left + (cols as f32 - 1.0) / 2.0;
        let (lim_x, lim_y) = (cols as f32, rows as f32);
        for (y, row) in out.chunks_exact_mut(t.width).enumerate() {
            // Where this row's pixels come from: undo the shift, then the
            // rotation; the source point moves by (cos, −sin) per pixel.
            let v = y as f32 - cy - dy;
            let u0 = -cx - dx;
            let mut sx = cos * u0 + sin * v + cx - left + 1.0;
            let mut sy = -sin * u0 + cos * v + cy - top + 1.0;
            for o in row.iter_mut() {
                *o = if sx >= 0.0 && sy >= 0.0 && sx < lim_x + 1.0 && sy < lim_y + 1.0 {
                    let (x0, y0) = (sx as usize, sy as usize);
                    let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
                    let i = y0 * pw + x0;
                    let (a, b) = (src[i], src[i + 1]);
                    let (c, d) = (src[i + pw], src[i + pw + 1]);
                    let top = a + fx * (b - a);
                    let bottom = c + fx * (d - c);
                    top + fy * (bottom - top)
                } else {
                    background
                };
                sx += cos;
                sy -= sin;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Vec<u8> {
        (0..28 * 28).map(|i| ((i * 37) % 251) as u8).collect()
    }

    /// The image as the only one of a data set.
    fn data() -> Dataset {
        Dataset {
            images: image(),
            labels: vec![0],
            rows: 28,
            cols: 28,
        }
    }

    #[test]
    fn no_move_is_the_plain_transform() {
        let t = Transform::new(28, 28).pad_to(32, 32).normalize(0.13, 0.31);
        let (mut a, mut b) = (vec![0.0; 1024], vec![0.0; 1024]);
        t.apply(&image(), 28, 28, &mut a);
        // A zero draw through the interpolating path gives the same values.
        let aug = Augment {
            shift: 1e-30,
            rotate: 0.0,
            seed: 3,
        };
        aug.apply(&t, &data(), 0, 1, &mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{x} {y}");
        }
    }

    #[test]
    fn a_whole_pixel_shift_moves_the_image() {
        let t = Transform::new(28, 28).pad_to(32, 32);
        let aug = Augment {
            shift: 2.0,
            rotate: 0.0,
            seed: 7,
        };
        let (dx, dy, _) = aug.draw(1, 0);
        let mut out = vec![0.0; 1024];
        aug.apply(&t, &data(), 0, 1, &mut out);
        // Pixel (10, 10) of the image lands near (12 + dy, 12 + dx).
        let want = f32::from(image()[10 * 28 + 10]) / 255.0;
        let (y, x) = ((12.0 + dy).round() as usize, (12.0 + dx).round() as usize);
        let near = (y - 1..=y + 1)
            .flat_map(|r| (x - 1..=x + 1).map(move |c| (r, c)))
            .any(|(r, c)| (out[r * 32 + c] - want).abs() < 0.5);
        assert!(near);
    }

    #[test]
    fn draws_are_deterministic_and_differ_by_epoch() {
        let aug = Augment {
            shift: 2.0,
            rotate: 10.0,
            seed: 1,
        };
        assert_eq!(aug.draw(1, 42), aug.draw(1, 42));
        assert_ne!(aug.draw(1, 42), aug.draw(2, 42));
        let (dx, dy, a) = aug.draw(3, 9);
        assert!(dx.abs() <= 2.0 && dy.abs() <= 2.0 && a.abs() <= 10f32.to_radians());
    }
}
