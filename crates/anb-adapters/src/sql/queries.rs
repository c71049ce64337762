//! Read queries shared by PostgreSQL and SQLite, generic over the sqlx database.

use anb_domain::ports::{PublicVideoQuery, RankingEntry, RankingQuery};
use anb_domain::user::PlayerSummary;
use anb_domain::{City, Country, Page, PublicSort, PublicVideo, UserId};
use sqlx::{ColumnIndex, Database, Decode, Encode, QueryBuilder, Row, Type};
use uuid::Uuid;

use super::records::{total_scope, UserRecord, VideoRecord, OWNER_COLUMNS, VIDEO_COLUMNS};

/// Appends the rankings' filters. They are appended only when present, so each shape gets its
/// own plan and index.
fn ranking_filters<'a, DB>(b: &mut QueryBuilder<'a, DB>, query: &RankingQuery)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    b.push(" FROM users WHERE votes_received > 0");
    if let Some(city) = &query.city {
        b.push(" AND city_key = ").push_bind(city.key().to_owned());
    }
    if let Some(country) = &query.country {
        b.push(" AND country_key = ")
            .push_bind(country.key().to_owned());
    }
}

/// The rankings page's query: players from the counters, through the ranking indexes.
pub(crate) fn rankings_page<'a, DB>(query: &RankingQuery) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut select =
        QueryBuilder::new("SELECT id, first_name, last_name, city, country, votes_received");
    ranking_filters(&mut select, query);
    select
        .push(" ORDER BY votes_received DESC, last_vote_at, id LIMIT ")
        .push_bind(query.page.limit() as i64)
        .push(" OFFSET ")
        .push_bind(query.page.offset() as i64);
    select
}

/// The rankings' total: read from `ranked_players`, counted only for a combined city and
/// country filter. One row, one `BIGINT` column.
pub(crate) fn rankings_total<'a, DB>(query: &RankingQuery) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    match total_scope(query) {
        Some(scope) => {
            let mut b = QueryBuilder::new(
                "SELECT coalesce(max(players), 0) FROM ranked_players WHERE scope = ",
            );
            b.push_bind(scope);
            b
        }
        None => {
            let mut b = QueryBuilder::new("SELECT count(*)");
            ranking_filters(&mut b, query);
            b
        }
    }
}

/// Decodes the rows of [`rankings_page`] into a page with continuous positions.
pub(crate) fn rankings_from_rows<R>(
    rows: &[R],
    total: i64,
    query: &RankingQuery,
) -> anyhow::Result<Page<RankingEntry>>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Uuid: Decode<'r, R::Database> + Type<R::Database>,
    for<'s> &'s str: ColumnIndex<R>,
{
    let offset = query.page.offset();
    let items = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let first: String = r.try_get("first_name")?;
            let last: String = r.try_get("last_name")?;
            Ok(RankingEntry {
                position: offset + i as u64 + 1,
                user_id: UserId::from_uuid(r.try_get("id")?),
                username: format!("{first} {last}"),
                city: City::parse(&r.try_get::<String, _>("city")?)?,
                country: Country::parse(&r.try_get::<String, _>("country")?)?,
                votes: r.try_get::<i64, _>("votes_received")? as u64,
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
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn public_filters<'a, DB>(b: &mut QueryBuilder<'a, DB>, query: &PublicVideoQuery, owners: bool)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    // The owners are joined only when their columns or their city are needed: the total of an
    // unfiltered gallery then counts index entries, not joined rows.
    b.push(if owners || query.city.is_some() {
        " FROM videos v JOIN users u ON u.id = v.owner_id"
    } else {
        " FROM videos v"
    });
    b.push(" WHERE v.status = 'processed' AND v.is_public");
    if let Some(city) = &query.city {
        b.push(" AND u.city_key = ")
            .push_bind(city.key().to_owned());
    }
    if let Some(q) = &query.search {
        // Both sides are lower-cased in Rust (Unicode-aware), so LIKE's own case rules never matter.
        b.push(" AND v.search_text LIKE ")
            .push_bind(format!("%{}%", like_literal(&q.to_lowercase())))
            .push(" ESCAPE '\\'");
    }
}

/// The gallery page's query: published videos and their owners (columns [`VIDEO_COLUMNS`] and
/// [`OWNER_COLUMNS`]), filtered, sorted, paged.
pub(crate) fn public_page<'a, DB>(query: &PublicVideoQuery) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut select = QueryBuilder::new(format!("SELECT {VIDEO_COLUMNS}, {OWNER_COLUMNS}"));
    public_filters(&mut select, query, true);
    select.push(match query.sort {
        PublicSort::Votes => " ORDER BY v.votes DESC, v.published_at DESC, v.id DESC",
        PublicSort::Recent => " ORDER BY v.published_at DESC, v.id DESC",
    });
    select
        .push(" LIMIT ")
        .push_bind(query.page.limit() as i64)
        .push(" OFFSET ")
        .push_bind(query.page.offset() as i64);
    select
}

/// The gallery's total. One row, one `BIGINT` column.
pub(crate) fn public_total<'a, DB>(query: &PublicVideoQuery) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    let mut count = QueryBuilder::new("SELECT count(*)");
    public_filters(&mut count, query, false);
    count
}

/// Turns decoded gallery rows into the page.
pub(crate) fn public_from_records(
    records: Vec<(VideoRecord, UserRecord)>,
    total: i64,
    query: &PublicVideoQuery,
) -> anyhow::Result<Page<PublicVideo>> {
    let items = records
        .into_iter()
        .map(|(video, owner)| {
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
