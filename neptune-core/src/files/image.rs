//! `File::as_image_array` (raw pixel arrays) and, with feature `image`, `File::as_image` (the
//! `image` crate's buffers) as PNG files. Raw arrays are encoded by the `png` crate alone, so
//! the default build does not compile `image`.

use super::value::File;
use crate::error::{Error, Result};

/// A number that can be a pixel value of a raw array given to [`File::as_image_array`].
pub trait ImagePixel: Copy {
    /// The value as a float, for scaling to 8-bit channels.
    fn to_f64(self) -> f64;
}

macro_rules! pixel {
    ($($t:ty),*) => {$(
        impl ImagePixel for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
pixel!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

impl ImagePixel for bool {
    fn to_f64(self) -> f64 {
        if self {
            1.0
        } else {
            0.0
        }
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::invalid("as_image", reason)
}

/// The reference's autoscale rule: values in `[0, 1]` are scaled to `[0, 255]`; values in
/// `[0, 255]` (with a maximum above 1) are kept; anything else is kept with a warning (and
/// clamped to `[0, 255]` when converted to 8-bit pixels).
fn scale_factor(data: &[f64]) -> f64 {
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in data.iter().filter(|v| !v.is_nan()) {
        min = min.min(v);
        max = max.max(v);
    }
    if min >= 0.0 && max > 1.0 && max <= 255.0 {
        1.0
    } else if min >= 0.0 && max <= 1.0 {
        255.0
    } else {
        if min.is_finite() {
            tracing::warn!(
                min,
                max,
                "image data lies outside [0, 1] and [0, 255]; pixels were clamped to [0, 255]"
            );
        }
        1.0
    }
}

impl File {
    /// A raw pixel array (row-major, as a NumPy array or a tensor's data) of shape
    /// `[height, width]` (grayscale), `[height, width, 1]`, `[height, width, 2]` (gray and
    /// alpha), `[height, width, 3]` (RGB) or `[height, width, 4]` (RGBA) as a PNG file.
    ///
    /// With `autoscale`, the reference's rule applies: when every value lies in `[0, 1]` the
    /// values are multiplied by 255; when they lie in `[0, 255]` they are kept. Values are then
    /// rounded and clamped to 8-bit pixels.
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// use neptune_core::File;
    /// let gray: Vec<f32> = (0..6).map(|i| i as f32 / 5.0).collect(); // 0.0 ..= 1.0
    /// let f = File::as_image_array(&gray, &[2, 3], true)?;
    /// assert_eq!(f.extension(), "png");
    /// assert!(File::as_image_array(&gray, &[4, 4], true).is_err()); // shape does not fit
    /// # Ok(()) }
    /// ```
    pub fn as_image_array<T: ImagePixel>(
        data: &[T],
        shape: &[usize],
        autoscale: bool,
    ) -> Result<File> {
        let (h, w, c) = match *shape {
            [h, w] => (h, w, 1),
            [h, w, c] if (1..=4).contains(&c) => (h, w, c),
            _ => {
                return Err(bad(format!(
                    "shape {shape:?} is not an image: use [height, width] or [height, width, channels] with 1 to 4 channels"
                )))
            }
        };
        if h == 0 || w == 0 {
            return Err(bad(format!("shape {shape:?} has no pixels")));
        }
        let expected = h
            .checked_mul(w)
            .and_then(|n| n.checked_mul(c))
            .ok_or_else(|| bad(format!("shape {shape:?} is too large")))?;
        if expected != data.len() {
            return Err(bad(format!(
                "shape {shape:?} needs {expected} values, the array has {}",
                data.len()
            )));
        }
        let (w32, h32) = (
            u32::try_from(w).map_err(|_| bad("the image is too wide"))?,
            u32::try_from(h).map_err(|_| bad("the image is too high"))?,
        );
        let values: Vec<f64> = data.iter().map(|v| v.to_f64()).collect();
        let factor = if autoscale {
            scale_factor(&values)
        } else {
            1.0
        };
        let pixels: Vec<u8> = values
            .iter()
            .map(|v| (v * factor).round().clamp(0.0, 255.0) as u8)
            .collect();
        let color = match c {
            1 => png::ColorType::Grayscale,
            2 => png::ColorType::GrayscaleAlpha,
            3 => png::ColorType::Rgb,
            _ => png::ColorType::Rgba,
        };
        Ok(File::from_bytes(
            encode_png(w32, h32, color, &pixels)?,
            "png",
        ))
    }
}

/// 8-bit `pixels` (row-major, `color`'s channels) as PNG bytes.
fn encode_png(width: u32, height: u32, color: png::ColorType, pixels: &[u8]) -> Result<Vec<u8>> {
    let fail = |e: png::EncodingError| bad(format!("cannot encode the image as PNG: {e}"));
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(pixels).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}

#[cfg(feature = "image")]
impl File {
    /// An image crate image (`DynamicImage`, `RgbImage`, `GrayImage`, `RgbaImage`, …) as a
    /// PNG file (feature `image`).
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// let img = image::RgbImage::from_pixel(4, 3, image::Rgb([255, 0, 0]));
    /// let f = neptune_core::File::as_image(img)?;
    /// assert_eq!(f.extension(), "png");
    /// # Ok(()) }
    /// ```
    pub fn as_image(image: impl Into<image::DynamicImage>) -> Result<File> {
        let image: image::DynamicImage = image.into();
        let mut out = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut out, image::ImageFormat::Png)
            .map_err(|e| bad(format!("cannot encode the image as PNG: {e}")))?;
        Ok(File::from_bytes(out.into_inner(), "png"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PNG's width, height, color type and 8-bit pixels.
    fn decode(f: &File) -> (u32, u32, png::ColorType, Vec<u8>) {
        let bytes = f.read_all().unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, info.color_type, buf)
    }

    fn gray(f: &File) -> Vec<u8> {
        let (_, _, color, px) = decode(f);
        assert_eq!(color, png::ColorType::Grayscale);
        px
    }

    #[test]
    fn autoscale_rule() {
        // [0, 1] → ×255
        let f = File::as_image_array(&[0.0f64, 0.5, 1.0, 0.25], &[2, 2], true).unwrap();
        assert_eq!(gray(&f), vec![0, 128, 255, 64]);
        // [0, 255] → kept
        let f = File::as_image_array(&[0u8, 2, 255, 7], &[2, 2, 1], true).unwrap();
        assert_eq!(gray(&f), vec![0, 2, 255, 7]);
        // outside both → kept and clamped
        let f = File::as_image_array(&[-3.0f32, 300.0, 1.0, 2.0], &[1, 4], true).unwrap();
        assert_eq!(gray(&f), vec![0, 255, 1, 2]);
        // no autoscale: a [0, 1] array stays dark
        let f = File::as_image_array(&[0.0f64, 1.0], &[1, 2], false).unwrap();
        assert_eq!(gray(&f), vec![0, 1]);
    }

    #[test]
    fn channels_and_bad_shapes() {
        let rgb: Vec<u8> = (0..2 * 3 * 3).map(|i| i as u8 * 10).collect();
        let (w, h, color, px) = decode(&File::as_image_array(&rgb, &[2, 3, 3], true).unwrap());
        assert_eq!((w, h, color), (3, 2, png::ColorType::Rgb));
        assert_eq!(px, rgb);
        let ga = [0u8, 255, 9, 128];
        let (_, _, color, px) = decode(&File::as_image_array(&ga, &[1, 2, 2], true).unwrap());
        assert_eq!(
            (color, px.as_slice()),
            (png::ColorType::GrayscaleAlpha, &ga[..])
        );
        let rgba = vec![1.0f32; 4 * 4];
        let (_, _, color, px) = decode(&File::as_image_array(&rgba, &[2, 2, 4], true).unwrap());
        assert_eq!((color, px), (png::ColorType::Rgba, vec![255; 16]));
        assert!(File::as_image_array(&rgba, &[2, 2, 5], true).is_err());
        assert!(File::as_image_array(&rgba, &[16], true).is_err());
        assert!(File::as_image_array::<u8>(&[], &[0, 3], true).is_err());
    }
}
