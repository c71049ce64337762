//! The ANB Showcase REST service (poem + poem-openapi) will live here. Nothing is implemented
//! yet: the crate only holds its place in the workspace so the layout of ARCHITECTURE.md is
//! fixed from the start.
