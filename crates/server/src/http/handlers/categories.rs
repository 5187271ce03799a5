//! `/api/categories`: list, create, rename and delete categories.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::error::{Answer, ApiError, ErrorBody, ok, ok_with};
use crate::http::AppState;
use crate::http::json::JsonBody;
use sofathek_core::auth::Access;
use sofathek_core::names::NameKind;
use sofathek_db::categories::Category;
use sofathek_db::{DbError, categories};
use sofathek_http::schema::{self, Presence};
use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// A new category.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// Display name (1 to 100 characters); the slug is derived from it unless given.
    #[schema(schema_with = name_rule)]
    pub name: String,
    /// Optional slug: lowercase letters, digits and '-'.
    #[schema(schema_with = slug_or_null)]
    pub slug: Option<String>,
}

/// A renamed category.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameCategory {
    #[schema(schema_with = name_rule)]
    pub name: String,
}

/// A category name as [`check_name`] accepts it.
fn name_rule() -> Object {
    schema::text(NameKind::Category.max(), Presence::Required)
}

/// A slug as `create` accepts it (what `categories::slugify` leaves unchanged), or `null`.
fn slug_or_null() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(64))
        .pattern(Some("^[a-z0-9]+(?:-[a-z0-9]+)*$"))
        .build()
}

/// `GET /api/categories`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryList {
    pub categories: Vec<Category>,
}

/// `PATCH /api/categories/{slug}`: the slug stays, the name changed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryRenamed {
    pub slug: String,
    pub name: String,
}

/// `DELETE /api/categories/{slug}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryDeleted {
    /// `Category '<slug>' deleted`.
    pub message: String,
    pub slug: String,
}

fn check_name(name: &str) -> Result<String, ApiError> {
    super::display_name(NameKind::Category, name)
}

/// Lists categories with their video counts (a kid sees only its allowed categories).
#[utoipa::path(get, path = "/api/categories", tag = "categories",
    responses((status = 200, description = "all categories (a kid's: its allowed ones)", body = CategoryList)))]
pub async fn list(
    State(state): State<AppState>,
    access: Access,
) -> Result<Answer<CategoryList>, ApiError> {
    let mut all = state.db.read(categories::list).await?;
    all.retain(|c| access.can_see(Some(&c.slug)));
    Ok(ok(CategoryList { categories: all }))
}

/// Creates a category.
#[utoipa::path(post, path = "/api/categories", tag = "categories", request_body = NewCategory,
    responses((status = 201, description = "created", body = Category),
              (status = 400, description = "invalid name", body = ErrorBody),
              (status = 409, description = "exists already", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewCategory>,
) -> Result<Response, ApiError> {
    let name = check_name(&body.name)?;
    let slug = match body.slug {
        Some(slug) if slug == categories::slugify(&slug) && !slug.is_empty() => slug,
        Some(_) => {
            return Err(ApiError::bad_request(
                "Slug must be lowercase letters, digits and '-'",
            ));
        }
        None => categories::slugify(&name),
    };
    if slug.is_empty() {
        return Err(ApiError::bad_request(
            "Category name needs at least one letter or digit",
        ));
    }
    let slug_copy = slug.clone();
    match state
        .db
        .write(move |tx| categories::create(tx, &slug_copy, &name))
        .await
    {
        Ok(category) => Ok(ok_with(StatusCode::CREATED, category)),
        Err(DbError::Conflict(_)) => Err(ApiError::conflict(format!(
            "Category '{slug}' already exists"
        ))),
        Err(err) => Err(err.into()),
    }
}

/// Renames a category.
#[utoipa::path(patch, path = "/api/categories/{slug}", tag = "categories", request_body = RenameCategory,
    params(("slug" = String, Path, description = "category slug")),
    responses((status = 200, description = "renamed", body = CategoryRenamed),
              (status = 404, description = "no such category", body = ErrorBody)))]
pub async fn rename(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<RenameCategory>,
) -> Result<Answer<CategoryRenamed>, ApiError> {
    let name = check_name(&body.name)?;
    let lookup = slug.clone();
    let new_name = name.clone();
    match state
        .db
        .write(move |tx| {
            categories::rename(tx, &lookup, &new_name)?;
            sofathek_db::videos::ids_in_category(tx, &lookup)
        })
        .await
    {
        Ok(ids) => {
            sofathek_core::library::rewrite_sidecars(&state.db, &state.layout, &ids).await;
            Ok(ok(CategoryRenamed { slug, name }))
        }
        Err(DbError::NotFound) => Err(ApiError::not_found(format!("Category '{slug}' not found"))),
        Err(err) => Err(err.into()),
    }
}

/// Deletes a user-defined category; its videos become uncategorised.
#[utoipa::path(delete, path = "/api/categories/{slug}", tag = "categories",
    params(("slug" = String, Path, description = "category slug")),
    responses((status = 200, description = "deleted", body = CategoryDeleted),
              (status = 404, description = "no such category", body = ErrorBody),
              (status = 409, description = "built-in", body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Answer<CategoryDeleted>, ApiError> {
    let lookup = slug.clone();
    match state
        .db
        .write(move |tx| {
            let ids = sofathek_db::videos::ids_in_category(tx, &lookup)?;
            categories::delete(tx, &lookup)?;
            Ok(ids)
        })
        .await
    {
        Ok(ids) => {
            sofathek_core::library::rewrite_sidecars(&state.db, &state.layout, &ids).await;
            Ok(ok(CategoryDeleted {
                message: format!("Category '{slug}' deleted"),
                slug,
            }))
        }
        Err(DbError::NotFound) => Err(ApiError::not_found(format!("Category '{slug}' not found"))),
        Err(DbError::Conflict(msg)) => Err(ApiError::conflict(msg)),
        Err(err) => Err(err.into()),
    }
}
