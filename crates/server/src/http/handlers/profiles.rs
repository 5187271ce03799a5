//! `/api/profiles`: the profile list for the "Who's watching?" picker (public) and, for
//! parents, creating, changing and deleting profiles (a kid's allowed categories included).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::session::ProfileView;
use crate::error::{Answer, ApiError, ErrorBody, ok, ok_with};
use crate::http::AppState;
use crate::http::json::JsonBody;
use sofathek_codes::Code;
use sofathek_core::auth::{AVATARS, Access};
use sofathek_core::names::NameKind;
use sofathek_db::DbError;
use sofathek_db::profiles::{self, ProfileChange, ProfileKind};
use sofathek_http::schema::{self, Presence};
use utoipa::openapi::schema::{Array, Object, Type};

/// `GET /api/profiles`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileList {
    pub profiles: Vec<ProfileView>,
}

/// `DELETE /api/profiles/{id}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileDeleted {
    /// `Profile '<name>' deleted`.
    pub message: String,
    pub id: i64,
}

/// Every profile: `id, name, kind, avatar` (parents also see a kid's categories).
#[utoipa::path(get, path = "/api/profiles", tag = "profiles",
    responses((status = 200, description = "every profile", body = ProfileList)))]
pub async fn list(State(state): State<AppState>, access: Access) -> Result<Response, ApiError> {
    let all = state.db.read(profiles::list).await?;
    let full = access.is_parent();
    Ok(ok(ProfileList {
        profiles: all.iter().map(|p| ProfileView::new(p, full)).collect(),
    })
    .into_response())
}

/// A new profile.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProfile {
    /// 1 to 40 characters, unique (ignoring case).
    #[schema(schema_with = name_rule)]
    pub name: String,
    /// `kid` (default) or `parent` (parents share the parent password).
    #[schema(schema_with = kind_or_null)]
    pub kind: Option<String>,
    /// One of red, orange, yellow, green, teal, blue, purple, pink.
    #[schema(schema_with = avatar_or_null)]
    pub avatar: Option<String>,
    /// A kid's allowed category slugs (a kid sees nothing else).
    #[serde(default)]
    #[schema(schema_with = categories_rule)]
    pub categories: Vec<String>,
}

/// Changes to a profile.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfile {
    #[schema(schema_with = name_or_null)]
    pub name: Option<String>,
    #[schema(schema_with = avatar_or_null)]
    pub avatar: Option<String>,
    /// A kid's new allow-list (replaces the old one).
    #[schema(schema_with = categories_or_null)]
    pub categories: Option<Vec<String>>,
}

/// Most categories a kid's allow-list names.
const MAX_CATEGORIES: usize = 100;

/// A profile name as [`check_name`] accepts it.
fn name_rule() -> Object {
    schema::text(NameKind::Profile.max(), Presence::Required)
}

fn name_or_null() -> Object {
    schema::text(NameKind::Profile.max(), Presence::OrNull)
}

/// What `ProfileKind::parse` accepts.
fn kind_or_null() -> Object {
    schema::one_of(&["kid", "parent"], true)
}

/// What [`check_avatar`] accepts.
fn avatar_or_null() -> Object {
    schema::one_of(AVATARS, true)
}

/// What [`check_categories`] accepts.
fn categories_rule() -> Array {
    schema::list(Object::with_type(Type::String), 0, MAX_CATEGORIES, false).build()
}

fn categories_or_null() -> Array {
    schema::list(Object::with_type(Type::String), 0, MAX_CATEGORIES, true).build()
}

fn check_name(name: &str) -> Result<String, ApiError> {
    super::display_name(NameKind::Profile, name)
}

fn check_avatar(avatar: &str) -> Result<String, ApiError> {
    if AVATARS.contains(&avatar) {
        Ok(avatar.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "Unknown avatar '{avatar}': use one of {}",
            AVATARS.join(", ")
        )))
    }
}

fn check_categories(categories: &[String]) -> Result<Vec<String>, ApiError> {
    if categories.len() > MAX_CATEGORIES {
        return Err(ApiError::bad_request("At most 100 categories per profile"));
    }
    let mut unique: Vec<String> = categories.to_vec();
    unique.sort();
    unique.dedup();
    Ok(unique)
}

fn profile_error(id: Option<i64>, err: DbError, name: Option<&str>) -> ApiError {
    match err {
        DbError::NotFound => ApiError::not_found(format!(
            "Profile '{}' not found",
            id.map(|i| i.to_string()).unwrap_or_default()
        )),
        DbError::Conflict(msg) if msg.starts_with("Unknown category") => {
            ApiError::bad_request(msg).with_code(Code::UnknownCategory)
        }
        DbError::Conflict(msg) if msg.contains("UNIQUE") => ApiError::conflict(format!(
            "A profile named '{}' exists already",
            name.unwrap_or_default()
        )),
        DbError::Conflict(msg) => ApiError::conflict(msg),
        other => other.into(),
    }
}

/// Creates a profile (parents only).
#[utoipa::path(post, path = "/api/profiles", tag = "profiles", request_body = NewProfile,
    responses((status = 201, description = "the profile", body = ProfileView),
              (status = 400, description = "invalid name, kind, avatar or category", body = ErrorBody),
              (status = 409, description = "the name is taken", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewProfile>,
) -> Result<Response, ApiError> {
    let name = check_name(&body.name)?;
    let kind = match body.kind.as_deref() {
        None => ProfileKind::Kid,
        Some(kind) => ProfileKind::parse(kind)
            .ok_or_else(|| ApiError::bad_request("Profile kind must be 'kid' or 'parent'"))?,
    };
    let avatar = match body.avatar.as_deref() {
        Some(avatar) => check_avatar(avatar)?,
        None => AVATARS[name.len() % AVATARS.len()].to_owned(),
    };
    let categories = check_categories(&body.categories)?;
    if kind == ProfileKind::Parent && !categories.is_empty() {
        return Err(ApiError::bad_request("Parent profiles see every category"));
    }
    let shown = name.clone();
    match state
        .db
        .write(move |tx| profiles::create(tx, &name, kind, &avatar, &categories))
        .await
    {
        Ok(profile) => Ok(ok_with(
            StatusCode::CREATED,
            ProfileView::new(&profile, true),
        )),
        Err(err) => Err(profile_error(None, err, Some(&shown))),
    }
}

/// Changes a profile's name, avatar or (kids) allowed categories.
#[utoipa::path(patch, path = "/api/profiles/{id}", tag = "profiles", request_body = UpdateProfile,
    params(("id" = i64, Path, description = "profile id")),
    responses((status = 200, description = "the profile", body = ProfileView),
              (status = 404, description = "no such profile", body = ErrorBody),
              (status = 409, description = "the name is taken", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateProfile>,
) -> Result<Answer<ProfileView>, ApiError> {
    let id = parse_id(&id)?;
    if body.name.is_none() && body.avatar.is_none() && body.categories.is_none() {
        return Err(ApiError::bad_request(
            "Nothing to change: give name, avatar and/or categories",
        ));
    }
    let change = ProfileChange {
        name: body.name.as_deref().map(check_name).transpose()?,
        avatar: body.avatar.as_deref().map(check_avatar).transpose()?,
        categories: body
            .categories
            .as_deref()
            .map(check_categories)
            .transpose()?,
    };
    let shown = change.name.clone();
    match state
        .db
        .write(move |tx| profiles::update(tx, id, &change))
        .await
    {
        Ok(profile) => Ok(ok(ProfileView::new(&profile, true))),
        Err(err) => Err(profile_error(Some(id), err, shown.as_deref())),
    }
}

/// Deletes a profile with its sessions and watch progress (the last parent profile stays).
#[utoipa::path(delete, path = "/api/profiles/{id}", tag = "profiles",
    params(("id" = i64, Path, description = "profile id")),
    responses((status = 200, description = "deleted", body = ProfileDeleted),
              (status = 404, description = "no such profile", body = ErrorBody),
              (status = 409, description = "the last parent profile", body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Answer<ProfileDeleted>, ApiError> {
    let id = parse_id(&id)?;
    match state.db.write(move |tx| profiles::delete(tx, id)).await {
        Ok(profile) => Ok(ok(ProfileDeleted {
            message: format!("Profile '{}' deleted", profile.name),
            id,
        })),
        Err(err) => Err(profile_error(Some(id), err, None)),
    }
}

/// Parses a numeric id from the path (anything else is a profile that does not exist).
pub fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("Profile '{raw}' not found")))
}
