//! Times as each database keeps them: `timestamptz` on PostgreSQL, microseconds since the epoch
//! (an `INTEGER`) on SQLite. [`SqlTime`] is bound and read the same way on both; the encoding
//! is the one real difference, and it lives here.

use chrono::{DateTime, Utc};

/// A time as a query argument or a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SqlTime(pub DateTime<Utc>);

impl From<DateTime<Utc>> for SqlTime {
    fn from(at: DateTime<Utc>) -> Self {
        Self(at)
    }
}

impl From<SqlTime> for DateTime<Utc> {
    fn from(at: SqlTime) -> Self {
        at.0
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use chrono::{DateTime, Utc};
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::postgres::{PgTypeInfo, PgValueRef};
    use sqlx::{Database, Decode, Encode, Postgres, Type};

    use super::SqlTime;

    impl Type<Postgres> for SqlTime {
        fn type_info() -> PgTypeInfo {
            <DateTime<Utc> as Type<Postgres>>::type_info()
        }

        fn compatible(ty: &PgTypeInfo) -> bool {
            <DateTime<Utc> as Type<Postgres>>::compatible(ty)
        }
    }

    impl<'q> Encode<'q, Postgres> for SqlTime {
        fn encode_by_ref(
            &self,
            buf: &mut <Postgres as Database>::ArgumentBuffer<'q>,
        ) -> Result<IsNull, BoxDynError> {
            <DateTime<Utc> as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
        }
    }

    impl<'r> Decode<'r, Postgres> for SqlTime {
        fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
            Ok(Self(<DateTime<Utc> as Decode<'r, Postgres>>::decode(
                value,
            )?))
        }
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use chrono::DateTime;
    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::sqlite::{SqliteTypeInfo, SqliteValueRef};
    use sqlx::{Database, Decode, Encode, Sqlite, Type};

    use super::SqlTime;

    impl Type<Sqlite> for SqlTime {
        fn type_info() -> SqliteTypeInfo {
            <i64 as Type<Sqlite>>::type_info()
        }

        fn compatible(ty: &SqliteTypeInfo) -> bool {
            <i64 as Type<Sqlite>>::compatible(ty)
        }
    }

    impl<'q> Encode<'q, Sqlite> for SqlTime {
        fn encode_by_ref(
            &self,
            buf: &mut <Sqlite as Database>::ArgumentBuffer<'q>,
        ) -> Result<IsNull, BoxDynError> {
            <i64 as Encode<'q, Sqlite>>::encode(self.0.timestamp_micros(), buf)
        }
    }

    impl<'r> Decode<'r, Sqlite> for SqlTime {
        fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
            let micros = <i64 as Decode<'r, Sqlite>>::decode(value)?;
            let at = DateTime::from_timestamp_micros(micros)
                .ok_or_else(|| format!("stored time {micros} µs is out of range"))?;
            Ok(Self(at))
        }
    }
}
