//! Turning a photo or drawing of a digit into an MNIST-like 28×28 image:
//! grey-scale, white digit on black, the digit scaled to fit 20×20 and
//! centred by its centre of mass, as MNIST's digits were prepared.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{GrayImage, ImageReader, Luma};

use super::CliError;

/// Side of an MNIST image.
pub const SIDE: u32 = 28;
/// Side of the box the digit is scaled into.
const DIGIT: u32 = 20;

/// Reads a PNG or JPEG (format detected from the content) and returns 28×28
/// pixels, row-major, 0 = background.
pub fn load_digit(path: &Path) -> Result<Vec<u8>, CliError> {
    let fail = |e: &dyn std::fmt::Display| CliError::new(format!("{}: {e}", path.display()));
    let img = ImageReader::open(path)
        .map_err(|e| fail(&e))?
        .with_guessed_format()
        .map_err(|e| fail(&e))?
        .decode()
        .map_err(|e| fail(&e))?;
    Ok(to_mnist(&flatten_alpha(&img)))
}

/// Grey levels with any transparency composited over white paper.
fn flatten_alpha(img: &image::DynamicImage) -> GrayImage {
    let la = img.to_luma_alpha8();
    GrayImage::from_fn(la.width(), la.height(), |x, y| {
        let p = la.get_pixel(x, y);
        let (l, a) = (p[0] as u32, p[1] as u32);
        Luma([((l * a + 255 * (255 - a)) / 255) as u8])
    })
}

/// The MNIST preparation of a grey-scale image of one digit.
pub fn to_mnist(grey: &GrayImage) -> Vec<u8> {
    let mut img = grey.clone();
    if border_mean(&img) > 127.0 {
        imageops::invert(&mut img);
    }
    let Some((x0, y0, x1, y1)) = ink_box(&img) else {
        // Nothing drawn: a plain resize of the (dark) image.
        return imageops::resize(&img, SIDE, SIDE, FilterType::Triangle).into_raw();
    };
    let digit = imageops::crop_imm(&img, x0, y0, x1 - x0 + 1, y1 - y0 + 1).to_image();
    let (w, h) = digit.dimensions();
    let scale = DIGIT as f64 / w.max(h) as f64;
    let (nw, nh) = (((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1));
    let digit = imageops::resize(&digit, nw, nh, FilterType::Triangle);
    // Put the centre of mass at the centre of the 28×28 frame, staying inside.
    let (cx, cy) = centre_of_mass(&digit).unwrap_or((nw as f64 / 2.0, nh as f64 / 2.0));
    let left = (SIDE as f64 / 2.0 - cx).round().clamp(0.0, (SIDE - nw) as f64) as i64;
    let top = (SIDE as f64 / 2.0 - cy).round().clamp(0.0, (SIDE - nh) as f64) as i64;
    let mut out = GrayImage::new(SIDE, SIDE);
    imageops::overlay(&mut out, &digit, left, top);
    out.into_raw()
}

fn border_mean(img: &GrayImage) -> f64 {
    let (w, h) = img.dimensions();
    let mut sum = 0.0;
    let mut n = 0.0;
    for (x, y, p) in img.enumerate_pixels() {
        if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
            sum += p[0] as f64;
            n += 1.0;
        }
    }
    if n == 0.0 {
        0.0
    } else {
        sum / n
    }
}

/// Smallest box holding every pixel brighter than a third of the brightest
/// (ignoring faint noise); `None` for an image with no ink.
fn ink_box(img: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let max = img.pixels().map(|p| p[0]).max().unwrap_or(0);
    if max < 32 {
        return None;
    }
    let threshold = max / 3;
    let mut b: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in img.enumerate_pixels() {
        if p[0] > threshold {
            b = Some(match b {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            });
        }
    }
    b
}

fn centre_of_mass(img: &GrayImage) -> Option<(f64, f64)> {
    let (mut m, mut mx, mut my) = (0.0, 0.0, 0.0);
    for (x, y, p) in img.enumerate_pixels() {
        let v = p[0] as f64;
        m += v;
        mx += v * (x as f64 + 0.5);
        my += v * (y as f64 + 0.5);
    }
    (m > 0.0).then(|| (mx / m, my / m))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dark bar on white paper, off-centre.
    fn drawing() -> GrayImage {
        GrayImage::from_fn(100, 60, |x, y| Luma([if (10..20).contains(&x) && (5..55).contains(&y) { 0 } else { 255 }]))
    }

    #[test]
    fn light_backgrounds_are_inverted_and_the_digit_centred() {
        let out = to_mnist(&drawing());
        assert_eq!(out.len(), 784);
        let img = GrayImage::from_raw(28, 28, out).unwrap();
        assert_eq!(img.get_pixel(0, 0)[0], 0, "background is black");
        let (cx, cy) = centre_of_mass(&img).unwrap();
        assert!((cx - 14.0).abs() < 1.0 && (cy - 14.0).abs() < 1.0, "{cx} {cy}");
        // The bar, 50 px tall, is scaled to 20 px.
        let rows = (0..28).filter(|&y| (0..28).any(|x| img.get_pixel(x, y)[0] > 128)).count();
        assert!((19..=21).contains(&rows), "{rows}");
    }

    #[test]
    fn dark_backgrounds_stay_and_blank_images_pass() {
        let mut dark = drawing();
        imageops::invert(&mut dark);
        assert_eq!(to_mnist(&dark), to_mnist(&drawing()));
        assert_eq!(to_mnist(&GrayImage::new(5, 5)), vec![0; 784]);
    }
}
