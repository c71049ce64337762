//! Read queries shared by PostgreSQL and SQLite: the SQL of the rankings and the gallery,
//! whose filters are appended only when present (so each shape gets its own plan and index).

use std::fmt::Write as _;

use anb_domain::ports::{PublicVideoQuery, RankingEntry, RankingQuery};
use anb_domain::user::PlayerSummary;
use anb_domain::{City, Country, Page, PublicSort, PublicVideo, UserId};

use super::dialect::Dialect;
use super::driver::{Arg as _, Q};
use super::records::{total_scope, GalleryRecord, RankingRecord, USER_COLUMNS, VIDEO_COLUMNS};

/// A query argument of the shared read queries.
enum Param {
    Text(String),
    Int(i64),
    Uuid(uuid::Uuid),
}

/// SQL text with its arguments, numbered `$1`, `$2`, … as they are pushed (both databases
/// read that form).
pub(crate) struct SqlBuilder {
    sql: String,
    params: Vec<Param>,
}

impl SqlBuilder {
    fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    fn push_text(&mut self, value: String) -> &mut Self {
        self.params.push(Param::Text(value));
        self.placeholder()
    }

    fn push_int(&mut self, value: i64) -> &mut Self {
        self.params.push(Param::Int(value));
        self.placeholder()
    }

    fn push_uuid(&mut self, value: uuid::Uuid) -> &mut Self {
        self.params.push(Param::Uuid(value));
        self.placeholder()
    }

    fn placeholder(&mut self) -> &mut Self {
        let _ = write!(self.sql, "${}", self.params.len());
        self
    }

    /// The query, its arguments bound.
    pub(crate) fn build<D: Dialect>(&self) -> Q<'_, D::Db> {
        self.params
            .iter()
            .fold(sqlx::query::<D::Db>(&self.sql), |q, param| match param {
                Param::Text(text) => q.arg(text.clone()),
                Param::Int(n) => q.arg(*n),
                Param::Uuid(id) => q.arg(*id),
            })
    }
}

fn ranking_filters(b: &mut SqlBuilder, query: &RankingQuery) {
    b.push(" FROM users WHERE votes_received > 0");
    if let Some(city) = &query.city {
        b.push(" AND city_key = ").push_text(city.key().to_owned());
    }
    if let Some(country) = &query.country {
        b.push(" AND country_key = ")
            .push_text(country.key().to_owned());
    }
}

/// The rankings page's query: players from the counters, through the ranking indexes
/// ([`RankingRecord`] rows).
pub(crate) fn rankings_page(query: &RankingQuery) -> SqlBuilder {
    let mut select =
        SqlBuilder::new("SELECT id, first_name, last_name, city, country, votes_received");
    ranking_filters(&mut select, query);
    select
        .push(" ORDER BY votes_received DESC, last_vote_at, id LIMIT ")
        .push_int(query.page.limit() as i64)
        .push(" OFFSET ")
        .push_int(query.page.offset() as i64);
    select
}

/// The rankings' total: read from `ranked_players`, counted only for a combined city and
/// country filter. One row, one `BIGINT` column.
pub(crate) fn rankings_total(query: &RankingQuery) -> SqlBuilder {
    match total_scope(query) {
        Some(scope) => {
            let mut b = SqlBuilder::new(
                "SELECT coalesce(max(players), 0) FROM ranked_players WHERE scope = ",
            );
            b.push_text(scope);
            b
        }
        None => {
            let mut b = SqlBuilder::new("SELECT count(*)");
            ranking_filters(&mut b, query);
            b
        }
    }
}

/// Turns the rows of [`rankings_page`] into a page with continuous positions.
pub(crate) fn rankings_from_records(
    records: Vec<RankingRecord>,
    total: i64,
    query: &RankingQuery,
) -> anyhow::Result<Page<RankingEntry>> {
    let offset = query.page.offset();
    let items = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            Ok(RankingEntry {
                position: offset + i as u64 + 1,
                user_id: UserId::from_uuid(r.id),
                username: format!("{} {}", r.first_name, r.last_name),
                city: City::parse(&r.city)?,
                country: Country::parse(&r.country)?,
                votes: r.votes_received as u64,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Page {
        items,
        total: total as u64,
        request: query.page,
    })
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn public_filters(b: &mut SqlBuilder, query: &PublicVideoQuery, owners: bool) {
    // The owners are joined only when their columns or their city are needed: the total of an
    // unfiltered gallery then counts index entries, not joined rows.
    b.push(if owners || query.city.is_some() {
        " FROM videos v JOIN users u ON u.id = v.owner_id"
    } else {
        " FROM videos v"
    });
    b.push(" WHERE v.status = 'processed' AND v.is_public");
    if let Some(player) = query.player {
        b.push(" AND v.owner_id = ").push_uuid(player.as_uuid());
    }
    if let Some(city) = &query.city {
        b.push(" AND u.city_key = ")
            .push_text(city.key().to_owned());
    }
    if let Some(q) = &query.search {
        // Both sides are lower-cased in Rust (Unicode-aware), so LIKE's own case rules never matter.
        b.push(" AND v.search_text LIKE ")
            .push_text(format!("%{}%", like_literal(&q.to_lowercase())))
            .push(" ESCAPE '\\'");
    }
}

/// The gallery page's query: published videos and their owners (columns [`VIDEO_COLUMNS`] and
/// [`USER_COLUMNS`]), filtered, sorted, paged.
pub(crate) fn public_page(query: &PublicVideoQuery) -> SqlBuilder {
    let mut select = SqlBuilder::new(format!("SELECT {VIDEO_COLUMNS}, {USER_COLUMNS}"));
    public_filters(&mut select, query, true);
    select.push(match query.sort {
        PublicSort::Votes => " ORDER BY v.votes DESC, v.published_at DESC, v.id DESC",
        PublicSort::Recent => " ORDER BY v.published_at DESC, v.id DESC",
    });
    select
        .push(" LIMIT ")
        .push_int(query.page.limit() as i64)
        .push(" OFFSET ")
        .push_int(query.page.offset() as i64);
    select
}

/// The gallery's total. One row, one `BIGINT` column.
pub(crate) fn public_total(query: &PublicVideoQuery) -> SqlBuilder {
    let mut count = SqlBuilder::new("SELECT count(*)");
    public_filters(&mut count, query, false);
    count
}

/// Turns decoded gallery rows into the page.
pub(crate) fn public_from_records(
    records: Vec<GalleryRecord>,
    total: i64,
    query: &PublicVideoQuery,
) -> anyhow::Result<Page<PublicVideo>> {
    let items = records
        .into_iter()
        .map(|GalleryRecord { video, owner }| {
            Ok(PublicVideo {
                video: video.into_video()?,
                player: PlayerSummary::from(&owner.into_user()?),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Page {
        items,
        total: total as u64,
        request: query.page,
    })
}

#[cfg(test)]
mod tests {
    use super::like_literal;

    #[test]
    fn like_wildcards_in_a_search_are_taken_literally() {
        assert_eq!(like_literal(r"50%_off\now"), r"50\%\_off\\now");
    }
}
