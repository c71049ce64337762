-- How many players each rankings scope holds ('all', 'city:<key>', 'country:<key>'), kept in
-- step by the vote transaction when a player gets a first vote, so a rankings page never counts
-- rows to fill in its total.
CREATE TABLE ranked_players (
    scope   TEXT PRIMARY KEY,
    players INTEGER NOT NULL CHECK (players >= 0)
) STRICT;
INSERT INTO ranked_players (scope, players)
SELECT 'all', count(*) FROM users WHERE votes_received > 0
UNION ALL
SELECT 'city:' || city_key, count(*) FROM users WHERE votes_received > 0 GROUP BY city_key
UNION ALL
SELECT 'country:' || country_key, count(*) FROM users WHERE votes_received > 0 GROUP BY country_key;
