//! Queries over categories: the seeded ones and those the parents add.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::{DbError, DbResult};

/// A category with the number of videos in it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub slug: String,
    pub name: String,
    pub builtin: bool,
    pub video_count: u64,
}

/// All categories, seeded ones first, then by name.
pub fn list(conn: &Connection) -> DbResult<Vec<Category>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.slug, c.name, c.builtin, (SELECT count(*) FROM videos v WHERE v.category = c.slug) \
         FROM categories c ORDER BY c.builtin DESC, c.name COLLATE NOCASE",
    )?;
    let rows = stmt
        .query_map([], |row| {
            Ok(Category {
                slug: row.get(0)?,
                name: row.get(1)?,
                builtin: row.get::<_, i64>(2)? != 0,
                video_count: row.get::<_, i64>(3)?.max(0) as u64,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Whether a category exists.
pub fn exists(conn: &Connection, slug: &str) -> DbResult<bool> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM categories WHERE slug = ?1",
        [slug],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// The display name of a category, if it exists.
pub fn name_of(conn: &Connection, slug: &str) -> DbResult<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row("SELECT name FROM categories WHERE slug = ?1", [slug], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Adds a user-defined category.
pub fn create(conn: &Connection, slug: &str, name: &str) -> DbResult<Category> {
    conn.execute(
        "INSERT INTO categories (slug, name, builtin, created_at) VALUES (?1, ?2, 0, ?3)",
        params![slug, name, super::now()],
    )?;
    Ok(Category {
        slug: slug.into(),
        name: name.into(),
        builtin: false,
        video_count: 0,
    })
}

/// Renames a category (its slug stays).
pub fn rename(conn: &Connection, slug: &str, name: &str) -> DbResult<()> {
    match conn.execute(
        "UPDATE categories SET name = ?2 WHERE slug = ?1",
        params![slug, name],
    )? {
        0 => Err(DbError::NotFound),
        _ => Ok(()),
    }
}

/// Deletes a user-defined category; its videos become uncategorised.
pub fn delete(conn: &Connection, slug: &str) -> DbResult<()> {
    let builtin: i64 = conn.query_row(
        "SELECT builtin FROM categories WHERE slug = ?1",
        [slug],
        |r| r.get(0),
    )?;
    if builtin != 0 {
        return Err(DbError::Conflict(
            "built-in categories cannot be deleted".into(),
        ));
    }
    conn.execute("DELETE FROM categories WHERE slug = ?1", [slug])?;
    Ok(())
}

/// Makes a URL-safe slug from a display name: lowercase ASCII letters, digits and '-'.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug.truncate(64);
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_user_categories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::Db::open(&dir.path().join("t.db")).expect("open");
        let seeded = db.write_blocking(|tx| list(tx)).expect("list");
        let slugs: Vec<_> = seeded.iter().map(|c| c.slug.as_str()).collect();
        assert_eq!(slugs, ["education", "family", "kids", "music"]);
        db.write_blocking(|tx| create(tx, "nature", "Nature"))
            .expect("create");
        assert!(matches!(
            db.write_blocking(|tx| create(tx, "nature", "Nature again")),
            Err(DbError::Conflict(_))
        ));
        assert!(matches!(
            db.write_blocking(|tx| delete(tx, "kids")),
            Err(DbError::Conflict(_))
        ));
        db.write_blocking(|tx| delete(tx, "nature"))
            .expect("delete");
        assert!(matches!(
            db.write_blocking(|tx| delete(tx, "nature")),
            Err(DbError::NotFound)
        ));
    }

    #[test]
    fn slugs() {
        let check = |name: &str, slug: &str| assert_eq!(slugify(name), slug, "{name}");
        check("Nature", "nature");
        check("  Bed-time Stories! ", "bed-time-stories");
        check("Über", "ber");
        check("---", "");
        check("a/../b", "a-b");
    }
}
