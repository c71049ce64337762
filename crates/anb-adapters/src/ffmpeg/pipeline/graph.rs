//! The video filter graph: frame rate, rotation, fit with padding, pixel format, logo.

use anb_domain::media::LogoOverlay;
use ffmpeg_next::{filter, format, frame, Rational};

use super::timing::positive;

/// What the graph must do, decided from the input and the profile.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GraphPlan {
    /// Output frame rate (constant).
    pub fps: Rational,
    /// Display rotation of the source, in degrees (0, 90, 180, 270).
    pub rotation: i32,
    /// Output size; the picture is fitted inside keeping its aspect, then padded.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// The logo and where it goes, when the profile stamps one.
    pub logo: Option<LogoOverlay>,
}

impl GraphPlan {
    /// The filter description, reading `[in]` (and `[logo]`) and writing `[out]`.
    ///
    /// The source's sample aspect ratio is folded into the fit (`scale` to square pixels
    /// first when it is not square), rotation is applied like the ffmpeg CLI's autorotate,
    /// `fps` comes first so dropped frames are never scaled, and the picture is converted to
    /// 8-bit 4:2:0 (what browsers play) before the overlay.
    pub(crate) fn spec(&self, sample_aspect: Rational) -> String {
        let (w, h) = (self.width, self.height);
        let mut chain = vec![format!(
            "fps={}/{}",
            self.fps.numerator(),
            self.fps.denominator()
        )];
        if let Some(sar) = positive(sample_aspect).filter(|sar| (sar - 1.0).abs() > 1e-3) {
            chain.push(format!("scale=w='trunc(iw*{sar}/2)*2':h=ih,setsar=1"));
        }
        match self.rotation {
            90 => chain.push("transpose=clock".into()),
            180 => chain.push("hflip,vflip".into()),
            270 => chain.push("transpose=cclock".into()),
            _ => {}
        }
        chain.push(format!(
            "scale=w={w}:h={h}:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=bicubic"
        ));
        chain.push("format=yuv420p".into());
        chain.push(format!(
            "pad=w={w}:h={h}:x=(ow-iw)/2:y=(oh-ih)/2:color=black"
        ));
        chain.push("setsar=1".into());
        let main = chain.join(",");
        match &self.logo {
            None => format!("[in]{main}[out]"),
            Some(logo) => format!(
                "[in]{main}[main];[logo]scale=w={lw}:h={lh}:flags=lanczos,format=rgba[mark];\
                 [main][mark]overlay=x=W-w-{m}:y={m}:eof_action=repeat:format=yuv420[out]",
                lw = logo.width,
                lh = logo.height,
                m = logo.margin,
            ),
        }
    }
}

/// A configured graph with its sources and sink.
pub(crate) struct VideoGraph {
    graph: filter::Graph,
    has_logo: bool,
}

fn source_args(frame: &frame::Video, time_base: Rational, fps: Option<Rational>) -> String {
    let pix_fmt: ffmpeg_next::ffi::AVPixelFormat = frame.format().into();
    let sar = frame.aspect_ratio();
    let sar = if positive(sar).is_some() {
        sar
    } else {
        Rational::new(1, 1)
    };
    let mut args = format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
        frame.width(),
        frame.height(),
        pix_fmt as i32,
        time_base.numerator(),
        time_base.denominator(),
        sar.numerator(),
        sar.denominator(),
    );
    if let Some(fps) = fps {
        args.push_str(&format!(
            ":frame_rate={}/{}",
            fps.numerator(),
            fps.denominator()
        ));
    }
    args
}

impl VideoGraph {
    /// Builds the graph for frames shaped like `first` (in `time_base`), with `logo` (an RGBA
    /// picture) pushed once into its own source.
    pub(crate) fn new(
        plan: &GraphPlan,
        first: &frame::Video,
        time_base: Rational,
        logo: Option<&frame::Video>,
    ) -> Result<Self, ffmpeg_next::Error> {
        let mut graph = filter::Graph::new();
        let buffer = filter::find("buffer").ok_or(ffmpeg_next::Error::FilterNotFound)?;
        let sink = filter::find("buffersink").ok_or(ffmpeg_next::Error::FilterNotFound)?;
        graph.add(
            &buffer,
            "in",
            &source_args(first, time_base, Some(plan.fps)),
        )?;
        graph.add(&sink, "out", "")?;
        graph
            .get("out")
            .ok_or(ffmpeg_next::Error::Bug)?
            .set_pixel_format(format::Pixel::YUV420P);
        let logo = logo.filter(|_| plan.logo.is_some());
        if let Some(picture) = logo {
            graph.add(
                &buffer,
                "logo",
                &source_args(picture, Rational::new(1, 1), None),
            )?;
        }
        let spec = plan.spec(first.aspect_ratio());
        {
            let parser = graph.output("in", 0)?;
            let parser = if logo.is_some() {
                parser.output("logo", 0)?
            } else {
                parser
            };
            parser.input("out", 0)?.parse(&spec)?;
        }
        graph.validate()?;
        if let Some(picture) = logo {
            let mut source = graph.get("logo").ok_or(ffmpeg_next::Error::Bug)?;
            let mut picture = picture.clone();
            picture.set_pts(Some(0));
            source.source().add(&picture)?;
            source.source().flush()?;
        }
        Ok(Self {
            graph,
            has_logo: logo.is_some(),
        })
    }

    /// Feeds one decoded frame.
    pub(crate) fn push(&mut self, frame: &frame::Video) -> Result<(), ffmpeg_next::Error> {
        self.graph
            .get("in")
            .ok_or(ffmpeg_next::Error::Bug)?
            .source()
            .add(frame)
    }

    /// Signals the end of the input at `end_pts` (input time base): where the last frame
    /// ends, so the constant-rate output keeps that frame's full duration.
    pub(crate) fn finish(&mut self, end_pts: i64) -> Result<(), ffmpeg_next::Error> {
        self.graph
            .get("in")
            .ok_or(ffmpeg_next::Error::Bug)?
            .source()
            .close(end_pts)
    }

    /// The next filtered frame, if one is ready.
    pub(crate) fn pull(&mut self, into: &mut frame::Video) -> Result<bool, ffmpeg_next::Error> {
        let mut sink = self.graph.get("out").ok_or(ffmpeg_next::Error::Bug)?;
        match sink.sink().frame(into) {
            Ok(()) => Ok(true),
            Err(ffmpeg_next::Error::Eof) => Ok(false),
            Err(ffmpeg_next::Error::Other { errno }) if errno == ffmpeg_next::error::EAGAIN => {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// The time base of the frames [`pull`](Self::pull) returns.
    pub(crate) fn output_time_base(&mut self) -> Rational {
        self.graph
            .get("out")
            .map(|mut sink| sink.sink().time_base())
            .unwrap_or(Rational::new(0, 1))
    }

    /// Whether the logo is stamped.
    pub(crate) fn has_logo(&self) -> bool {
        self.has_logo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(rotation: i32) -> GraphPlan {
        GraphPlan {
            fps: Rational::new(30, 1),
            rotation,
            width: 1280,
            height: 720,
            logo: Some(LogoOverlay {
                width: 120,
                height: 60,
                margin: 10,
            }),
        }
    }

    #[test]
    fn a_portrait_phone_clip_is_turned_upright_before_it_is_fitted() {
        let spec = plan(90).spec(Rational::new(1, 1));
        let turn = spec.find("transpose=clock").expect("rotated");
        let fit = spec.find("force_original_aspect_ratio").expect("fitted");
        assert!(turn < fit, "{spec}");
    }

    #[test]
    fn the_logo_goes_top_right_with_its_margin() {
        let spec = plan(0).spec(Rational::new(1, 1));
        assert!(spec.contains("scale=w=120:h=60"), "{spec}");
        assert!(spec.contains("overlay=x=W-w-10:y=10"), "{spec}");
    }

    #[test]
    fn non_square_pixels_are_squared_before_the_fit() {
        let spec = plan(0).spec(Rational::new(4, 3));
        assert!(spec.contains("setsar=1,scale"), "{spec}");
        assert!(!plan(0).spec(Rational::new(0, 1)).contains("iw*"));
    }
}
