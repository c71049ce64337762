//! The storyboard: output frames sampled at an interval, tiled into one JPEG sprite, and a
//! WebVTT file whose cues point at the tiles (`storyboard.jpg#xywh=x,y,w,h`), which players
//! show as seek previews.

use std::fmt::Write as _;
use std::path::Path;

use anb_domain::media::{Storyboard, STORYBOARD_SPRITE};
use anb_domain::ports::TranscodeError;
use ffmpeg_next::{format, frame, software::scaling};

use super::fault;
use super::thumbnail::write_jpeg;

/// Collects the tiles while the frames go by.
pub(crate) struct StoryboardSampler {
    board: Storyboard,
    interval: f64,
    next_at: f64,
    tiles: Vec<frame::Video>,
    scaler: Option<scaling::Context>,
}

impl StoryboardSampler {
    /// A sampler for an output expected to last `expected_seconds`.
    pub(crate) fn new(board: Storyboard, expected_seconds: f64) -> Self {
        Self {
            board,
            interval: board.interval_for(expected_seconds),
            next_at: 0.0,
            tiles: Vec::new(),
            scaler: None,
        }
    }

    /// Sees one output frame shown at `at_seconds`; keeps a tile when one is due.
    pub(crate) fn offer(
        &mut self,
        picture: &frame::Video,
        at_seconds: f64,
    ) -> Result<(), TranscodeError> {
        if at_seconds + 1e-6 < self.next_at || self.tiles.len() >= self.board.max_tiles as usize {
            return Ok(());
        }
        self.next_at = (self.tiles.len() + 1) as f64 * self.interval;
        let scaler = match &mut self.scaler {
            Some(scaler) => scaler,
            None => self.scaler.insert(
                scaling::Context::get(
                    picture.format(),
                    picture.width(),
                    picture.height(),
                    format::Pixel::YUV420P,
                    self.board.tile_width,
                    self.board.tile_height,
                    scaling::Flags::AREA,
                )
                .map_err(fault("preparing the storyboard"))?,
            ),
        };
        let mut tile = frame::Video::empty();
        scaler
            .run(picture, &mut tile)
            .map_err(fault("scaling a storyboard tile"))?;
        self.tiles.push(tile);
        Ok(())
    }

    /// Writes the sprite and the cues for an output of `duration_seconds`.
    pub(crate) fn write(
        &self,
        duration_seconds: f64,
        sprite: &Path,
        cues: &Path,
    ) -> Result<(), TranscodeError> {
        if self.tiles.is_empty() {
            return Err(TranscodeError::BadMedia(
                "no picture could be decoded from the video stream".into(),
            ));
        }
        let (tile_w, tile_h) = (self.board.tile_width, self.board.tile_height);
        let columns = self.board.columns.clamp(1, self.tiles.len() as u32);
        let rows = (self.tiles.len() as u32).div_ceil(columns);
        let mut board = frame::Video::new(format::Pixel::YUV420P, columns * tile_w, rows * tile_h);
        // Black where no tile lands.
        for (plane, value) in [(0, 16_u8), (1, 128), (2, 128)] {
            board.data_mut(plane).fill(value);
        }
        for (i, tile) in self.tiles.iter().enumerate() {
            let (col, row) = (i as u32 % columns, i as u32 / columns);
            for plane in 0..3 {
                let (w, h) = if plane == 0 {
                    (tile_w, tile_h)
                } else {
                    (tile_w / 2, tile_h / 2)
                };
                let (x, y) = (col * w, row * h);
                let (src_stride, dst_stride) = (tile.stride(plane), board.stride(plane));
                let src = tile.data(plane);
                let dst = board.data_mut(plane);
                for line in 0..h as usize {
                    let from = line * src_stride;
                    let to = (y as usize + line) * dst_stride + x as usize;
                    dst[to..to + w as usize].copy_from_slice(&src[from..from + w as usize]);
                }
            }
        }
        write_jpeg(&board, board.width(), board.height(), sprite)?;
        std::fs::write(cues, self.cues(duration_seconds, columns)).map_err(|e| {
            TranscodeError::Unexpected(anyhow::Error::new(e).context("writing the storyboard cues"))
        })
    }

    /// One cue per tile, back to back, the last one ending with the output.
    fn cues(&self, duration_seconds: f64, columns: u32) -> String {
        let (tile_w, tile_h) = (self.board.tile_width, self.board.tile_height);
        let mut vtt = String::from("WEBVTT\n");
        let count = self.tiles.len();
        for i in 0..count {
            let start = i as f64 * self.interval;
            let end = if i + 1 == count {
                duration_seconds.max(start + 0.001)
            } else {
                (i + 1) as f64 * self.interval
            };
            let (x, y) = ((i as u32 % columns) * tile_w, (i as u32 / columns) * tile_h);
            let _ = write!(
                vtt,
                "\n{} --> {}\n{STORYBOARD_SPRITE}#xywh={x},{y},{tile_w},{tile_h}\n",
                timestamp(start),
                timestamp(end)
            );
        }
        vtt
    }
}

/// `HH:MM:SS.mmm`, as WebVTT writes times.
fn timestamp(seconds: f64) -> String {
    let millis = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        millis / 3_600_000,
        millis / 60_000 % 60,
        millis / 1000 % 60,
        millis % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webvtt_times_have_hours_minutes_seconds_and_milliseconds() {
        assert_eq!(timestamp(0.0), "00:00:00.000");
        assert_eq!(timestamp(61.2345), "00:01:01.235");
        assert_eq!(timestamp(3_725.0), "01:02:05.000");
    }
}
