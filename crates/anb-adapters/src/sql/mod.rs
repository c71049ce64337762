//! What the SQL adapters share: rows as plain records and their conversion to domain types
//! ([`records`]), and the read queries whose SQL is the same in both dialects, written once
//! over `sqlx::QueryBuilder` (which writes each dialect's placeholders) ([`queries`]).
//! Dialect-specific SQL (time types, locking, upserts) stays in each adapter.

mod fault;
mod queries;
mod records;

pub(crate) use fault::{fault, OrFault};

pub(crate) use queries::{
    public_from_records, public_page, public_total, rankings_from_rows, rankings_page,
    rankings_total,
};
pub(crate) use records::*;
