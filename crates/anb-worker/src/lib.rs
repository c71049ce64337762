//! The ANB Showcase processing worker (the job loop over the `JobQueue` port) will live here.
//! Nothing is implemented yet: the use case it drives, `Showcase::handle_job`, is in `anb-domain`.
