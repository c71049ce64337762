//! Shared test support: real servers started inside the tests.

pub mod s3;
