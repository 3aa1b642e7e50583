//! The three Swagger 2.0 documents the client loads (bravado): each operation it calls, by the
//! `operationId` it calls it by, with the parameters it passes (bravado refuses a call with a
//! parameter the document does not declare) and the answer's model (the client reads answers
//! as objects with attributes, which bravado builds from `definitions`).
//!
//! Every path is absolute and `basePath` is `/`: the client joins an operation's `path_name`
//! onto the API's address itself for uploads and downloads, dropping any base path.

use serde_json::{json, Map, Value};

/// `(operationId, method, path, parameters, answer)`. A parameter is `where:name:type`
/// (`type` `s` string, `i` integer, `b` boolean, `a` array of strings, `o` a JSON body,
/// `creation` the body of `createExperiment`); the
/// answer names a definition, `[Name]` an array of them, or is empty.
type Op = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
);

const API_TOKEN: &str = "header:X-Neptune-Api-Token:s";
const ID: &str = "query:experimentId:s";
const ATTR: &str = "query:attribute:s";

const BACKEND: &[Op] = &[
    (
        "getClientConfig",
        "get",
        "/api/backend/v1/clients/config",
        &[API_TOKEN, "query:alpha:s"],
        "ClientConfig",
    ),
    (
        "exchangeApiToken",
        "get",
        "/api/backend/v1/authorization/oauth-token",
        &[API_TOKEN],
        "NeptuneOauthToken",
    ),
    (
        "getProject",
        "get",
        "/api/backend/v1/projects/get",
        &["query:projectIdentifier:s"],
        "Project",
    ),
    (
        "listProjects",
        "get",
        "/api/backend/v1/projects",
        &[
            "query:limit:i",
            "query:offset:i",
            "query:organizationIdentifier:s",
            "query:searchTerm:s",
            "query:sortBy:a",
            "query:sortDirection:a",
            "query:userRelation:s",
        ],
        "ProjectList",
    ),
    (
        "listOrganizations",
        "get",
        "/api/backend/v1/organizations2",
        &[],
        "[Organization]",
    ),
];

const LEADERBOARD: &[Op] = &[
    (
        "getExperiment",
        "get",
        "/api/leaderboard/v1/experiments/get",
        &[ID],
        "Experiment",
    ),
    (
        "createExperiment",
        "post",
        "/api/leaderboard/v1/experiments",
        &[
            "body:experimentCreationParams:creation",
            "header:X-Neptune-CliVersion:s",
        ],
        "Experiment",
    ),
    (
        "ping",
        "post",
        "/api/leaderboard/v1/experiments/ping",
        &[ID],
        "",
    ),
    (
        "executeOperations",
        "post",
        "/api/leaderboard/v1/attributes/operations",
        &[ID, "body:operations:o"],
        "[Error]",
    ),
    (
        "getExperimentAttributes",
        "get",
        "/api/leaderboard/v1/attributes",
        &[ID],
        "Attributes",
    ),
    (
        "getFloatAttribute",
        "get",
        "/api/leaderboard/v1/attributes/float",
        &[ID, ATTR],
        "FloatAttribute",
    ),
    (
        "getIntAttribute",
        "get",
        "/api/leaderboard/v1/attributes/int",
        &[ID, ATTR],
        "IntAttribute",
    ),
    (
        "getBoolAttribute",
        "get",
        "/api/leaderboard/v1/attributes/bool",
        &[ID, ATTR],
        "BoolAttribute",
    ),
    (
        "getStringAttribute",
        "get",
        "/api/leaderboard/v1/attributes/string",
        &[ID, ATTR],
        "StringAttribute",
    ),
    (
        "getDatetimeAttribute",
        "get",
        "/api/leaderboard/v1/attributes/datetime",
        &[ID, ATTR],
        "DatetimeAttribute",
    ),
    (
        "getFileAttribute",
        "get",
        "/api/leaderboard/v1/attributes/file",
        &[ID, ATTR],
        "FileAttribute",
    ),
    (
        "getFloatSeriesAttribute",
        "get",
        "/api/leaderboard/v1/attributes/floatSeries",
        &[ID, ATTR],
        "FloatSeriesAttribute",
    ),
    (
        "getStringSeriesAttribute",
        "get",
        "/api/leaderboard/v1/attributes/stringSeries",
        &[ID, ATTR],
        "StringSeriesAttribute",
    ),
    (
        "getStringSetAttribute",
        "get",
        "/api/leaderboard/v1/attributes/stringSet",
        &[ID, ATTR],
        "StringSetAttribute",
    ),
    (
        "getFloatSeriesValues",
        "get",
        "/api/leaderboard/v1/attributes/series/float",
        &[ID, ATTR, "query:limit:i", "query:offset:i"],
        "FloatSeriesValues",
    ),
    (
        "getStringSeriesValues",
        "get",
        "/api/leaderboard/v1/attributes/series/string",
        &[ID, ATTR, "query:limit:i", "query:offset:i"],
        "StringSeriesValues",
    ),
    (
        "getImageSeriesValues",
        "get",
        "/api/leaderboard/v1/attributes/series/image",
        &[ID, ATTR, "query:limit:i", "query:offset:i"],
        "ImageSeriesValues",
    ),
    (
        "getImageSeriesValue",
        "get",
        "/api/leaderboard/v1/attributes/series/image/download",
        &[ID, ATTR, "query:index:i"],
        "",
    ),
    (
        "downloadAttribute",
        "get",
        "/api/leaderboard/v1/attributes/storage/file/download",
        &[ID, ATTR],
        "",
    ),
    (
        "fileAtomUpload",
        "post",
        "/api/leaderboard/v1/attributes/storage/file/upload",
        &["query:experimentIdentifier:s", ATTR, "query:ext:s"],
        "",
    ),
    (
        "fileAtomMultipartUploadStart",
        "post",
        "/api/leaderboard/v1/attributes/storage/file/upload/start",
        &[
            "query:experimentIdentifier:s",
            ATTR,
            "query:ext:s",
            "query:totalLength:i",
        ],
        "MultipartStart",
    ),
    (
        "fileAtomMultipartUploadFinish",
        "post",
        "/api/leaderboard/v1/attributes/storage/file/upload/finish",
        &["query:experimentIdentifier:s", ATTR, "query:uploadId:s"],
        "UploadErrors",
    ),
    (
        "fileAtomMultipartUploadPart",
        "post",
        "/api/leaderboard/v1/attributes/storage/file/upload/part",
        &[],
        "",
    ),
    (
        "fileSetFileUpload",
        "post",
        "/api/leaderboard/v1/attributes/storage/fileset/upload",
        &["query:experimentIdentifier:s", ATTR, "query:subPath:s"],
        "",
    ),
    (
        "fileSetFileMultipartUploadStart",
        "post",
        "/api/leaderboard/v1/attributes/storage/fileset/upload/start",
        &[
            "query:experimentIdentifier:s",
            ATTR,
            "query:subPath:s",
            "query:totalLength:i",
        ],
        "MultipartStart",
    ),
    (
        "fileSetFileMultipartUploadFinish",
        "post",
        "/api/leaderboard/v1/attributes/storage/fileset/upload/finish",
        &[
            "query:experimentIdentifier:s",
            ATTR,
            "query:subPath:s",
            "query:uploadId:s",
        ],
        "UploadErrors",
    ),
    (
        "fileSetFileMultipartUploadPart",
        "post",
        "/api/leaderboard/v1/attributes/storage/fileset/upload/part",
        &[],
        "",
    ),
    (
        "uploadFileSetAttributeTar",
        "post",
        "/api/leaderboard/v1/attributes/storage/fileset/tar",
        &[ID, ATTR, "query:reset:s"],
        "",
    ),
    (
        "lsFileSetAttribute",
        "get",
        "/api/leaderboard/v1/attributes/storage/fileset/ls",
        &[ID, ATTR, "query:path:s"],
        "[FileEntry]",
    ),
    (
        "prepareForDownloadFileSetAttributeZip",
        "post",
        "/api/leaderboard/v1/attributes/storage/fileset/zip",
        &[ID, ATTR],
        "DownloadPrepareRequest",
    ),
    (
        "getDownloadPrepareRequest",
        "get",
        "/api/leaderboard/v1/storage/downloadRequest",
        &["query:id:s"],
        "DownloadPrepareRequest",
    ),
    (
        "getArtifactAttribute",
        "get",
        "/api/leaderboard/v1/attributes/artifact",
        &[ID, ATTR],
        "ArtifactAttribute",
    ),
    (
        "createEmptyCheckpoint",
        "post",
        "/api/leaderboard/v1/notebooks/checkpoints",
        &["query:notebookId:s", "body:checkpoint:o"],
        "",
    ),
    (
        "searchLeaderboardEntries",
        "post",
        "/api/leaderboard/v1/leaderboard/entries/search",
        &["query:projectIdentifier:s", "query:type:a", "body:params:o"],
        "",
    ),
    (
        "searchLeaderboardAttributes",
        "post",
        "/api/leaderboard/v1/leaderboard/attributes/search",
        &[
            "query:projectIdentifier:s",
            "query:search:s",
            "query:type:a",
            "body:params:o",
        ],
        "LeaderboardAttributes",
    ),
];

const ARTIFACT: &[&str] = &[
    "query:projectIdentifier:s",
    "query:hash:s",
    "query:parentIdentifier:s",
    "query:size:i",
];

const ARTIFACTS: &[Op] = &[
    (
        "createNewArtifact",
        "post",
        "/api/artifacts/v1/artifacts",
        ARTIFACT,
        "ArtifactModel",
    ),
    (
        "uploadArtifactFilesMetadata",
        "put",
        "/api/artifacts/v1/artifacts/files",
        &[
            "query:projectIdentifier:s",
            "query:hash:s",
            "body:artifactFilesDTO:o",
        ],
        "ArtifactModel",
    ),
    (
        "createArtifactVersion",
        "post",
        "/api/artifacts/v1/artifacts/version",
        &[
            "query:projectIdentifier:s",
            "query:hash:s",
            "query:parentIdentifier:s",
            "body:artifactFilesDTO:o",
        ],
        "ArtifactModel",
    ),
    (
        "listArtifactFiles",
        "get",
        "/api/artifacts/v1/artifacts/files",
        &["query:projectIdentifier:s", "query:hash:s"],
        "ArtifactFileList",
    ),
];

fn props(fields: &[(&str, Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in fields {
        m.insert((*k).to_owned(), v.clone());
    }
    json!({"type": "object", "properties": m})
}

fn definitions() -> Value {
    let s = || json!({"type": "string"});
    let i = || json!({"type": "integer", "format": "int64"});
    let f = || json!({"type": "number", "format": "double"});
    let b = || json!({"type": "boolean"});
    let r = |name: &str| json!({"$ref": format!("#/definitions/{name}")});
    let arr = |v: Value| json!({"type": "array", "items": v});
    let value = |v: Value| props(&[("name", s()), ("type", s()), ("value", v)]);
    let point = |v: Value| props(&[("step", f()), ("timestampMillis", i()), ("value", v)]);
    let values = |point: &str| props(&[("totalItemCount", i()), ("values", arr(r(point)))]);
    json!({
        "ClientConfig": props(&[
            ("apiUrl", s()), ("applicationUrl", s()), ("pyLibVersions", r("PyLibVersions")),
            ("multiPartUpload", r("MultiPartUpload")), ("artifacts", r("ArtifactsConfig")),
            ("sysNameSetByBackend", b()),
        ]),
        "PyLibVersions": props(&[
            ("minRecommendedVersion", s()), ("minCompatibleVersion", s()), ("maxCompatibleVersion", s()),
        ]),
        "MultiPartUpload": props(&[
            ("enabled", b()), ("minChunkSize", i()), ("maxChunkSize", i()), ("maxChunkCount", i()),
            ("maxSinglePartSize", i()),
        ]),
        "ArtifactsConfig": props(&[("enabled", b()), ("apiVersion", i())]),
        "NeptuneOauthToken": props(&[("accessToken", s()), ("refreshToken", s()), ("username", s())]),
        "Project": props(&[
            ("id", s()), ("name", s()), ("organizationName", s()), ("organizationId", s()),
            ("projectKey", s()), ("version", i()),
        ]),
        "ProjectList": props(&[("entries", arr(r("Project"))), ("matchingItemCount", i())]),
        "Organization": props(&[("id", s()), ("name", s())]),
        "Experiment": props(&[
            ("id", s()), ("type", s()), ("shortId", s()), ("organizationName", s()),
            ("projectName", s()), ("projectId", s()), ("trashed", b()),
        ]),
        "Error": props(&[("errorDescription", s())]),
        "MultipartStart": props(&[("uploadId", s()), ("errors", arr(r("Error")))]),
        "UploadErrors": props(&[("errors", arr(r("Error")))]),
        "ArtifactAttribute": props(&[("hash", s())]),
        "ArtifactModel": props(&[("artifactHash", s()), ("receivedMetadata", b()), ("size", i())]),
        "ArtifactFileList": props(&[("files", arr(r("ArtifactFileDTO")))]),
        "ArtifactFileDTO": props(&[
            ("filePath", s()), ("fileHash", s()), ("type", s()), ("size", i()),
            ("metadata", arr(r("ArtifactFileMetadata"))),
        ]),
        "ArtifactFileMetadata": props(&[("key", s()), ("value", s())]),
        "DownloadPrepareRequest": props(&[("id", s()), ("downloadUrl", s())]),
        "LeaderboardAttributes": props(&[("entries", arr(r("AttributeDefinition")))]),
        "AttributeDefinition": props(&[("name", s()), ("type", s())]),
        "Attributes": props(&[("attributes", arr(r("Attribute")))]),
        "Attribute": props(&[
            ("name", s()), ("type", s()),
            ("floatProperties", r("FloatAttribute")), ("intProperties", r("IntAttribute")),
            ("boolProperties", r("BoolAttribute")), ("stringProperties", r("StringAttribute")),
            ("datetimeProperties", r("DatetimeAttribute")),
            ("experimentStateProperties", r("StringAttribute")),
            ("floatSeriesProperties", r("FloatSeriesAttribute")),
            ("stringSeriesProperties", r("StringSeriesAttribute")),
            ("stringSetProperties", r("StringSetAttribute")),
            ("fileProperties", r("FileAttribute")),
        ]),
        "FloatAttribute": value(f()),
        "IntAttribute": value(i()),
        "BoolAttribute": value(b()),
        "StringAttribute": value(s()),
        "DatetimeAttribute": value(json!({"type": "string", "format": "date-time"})),
        "FileAttribute": props(&[("name", s()), ("ext", s()), ("size", i())]),
        "FloatSeriesAttribute": props(&[("name", s()), ("type", s()), ("last", f()), ("lastStep", f())]),
        "StringSeriesAttribute": props(&[("name", s()), ("type", s()), ("last", s()), ("lastStep", f())]),
        "StringSetAttribute": props(&[("name", s()), ("type", s()), ("values", arr(s()))]),
        "FloatPointValue": point(f()),
        "StringPointValue": point(s()),
        "FloatSeriesValues": values("FloatPointValue"),
        "StringSeriesValues": values("StringPointValue"),
        "ImageSeriesValues": props(&[("totalItemCount", i())]),
        "FileEntry": props(&[("name", s()), ("size", i()), ("mtime", json!({"type": "string", "format": "date-time"})), ("fileType", s())]),
    })
}

fn param(spec: &str) -> Value {
    let mut parts = spec.splitn(3, ':');
    let (place, name, ty) = (
        parts.next().unwrap_or("query"),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("s"),
    );
    if place == "body" {
        // The creation's `gitInfo.commit.commitDate` is a Python datetime: bravado writes it
        // as RFC 3339 text only when the schema says `date-time` (else the request fails).
        let schema = if ty == "creation" {
            let obj =
                |props: Value| json!({"type": "object", "x-nullable": true, "properties": props});
            obj(json!({"gitInfo": obj(json!({"commit": obj(json!({
                "commitDate": {"type": "string", "format": "date-time", "x-nullable": true}
            }))}))}))
        } else {
            json!({})
        };
        return json!({"name": name, "in": "body", "required": true, "schema": schema});
    }
    let mut p = json!({"name": name, "in": place, "required": false});
    match ty {
        "i" => p["type"] = json!("integer"),
        "b" => p["type"] = json!("boolean"),
        "a" => {
            p["type"] = json!("array");
            p["items"] = json!({"type": "string"});
            p["collectionFormat"] = json!("multi");
        }
        _ => p["type"] = json!("string"),
    }
    p
}

fn answer(model: &str) -> Value {
    let schema = match model {
        "" => return json!({"200": {"description": "OK"}}),
        m if m.starts_with('[') => json!({
            "type": "array",
            "items": {"$ref": format!("#/definitions/{}", m.trim_matches(|c| c == '[' || c == ']'))}
        }),
        m => json!({"$ref": format!("#/definitions/{m}")}),
    };
    json!({"200": {"description": "OK", "schema": schema}})
}

fn document(title: &str, ops: &[Op]) -> Value {
    let mut paths = Map::new();
    for (id, method, path, params, model) in ops {
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        entry[*method] = json!({
            "operationId": id,
            "consumes": ["application/json"],
            "produces": ["application/json"],
            "parameters": params.iter().map(|p| param(p)).collect::<Vec<_>>(),
            "responses": answer(model),
        });
    }
    json!({
        "swagger": "2.0",
        "info": {"title": title, "version": env!("CARGO_PKG_VERSION")},
        "basePath": "/",
        "paths": paths,
        "definitions": definitions(),
    })
}

/// `/api/backend/swagger.json`.
pub(super) fn backend() -> Value {
    document("neptune backend (for the original Python client)", BACKEND)
}

/// `/api/leaderboard/swagger.json`.
pub(super) fn leaderboard() -> Value {
    document(
        "neptune leaderboard (for the original Python client)",
        LEADERBOARD,
    )
}

/// `/api/artifacts/swagger.json`.
pub(super) fn artifacts() -> Value {
    document(
        "neptune artifacts (for the original Python client)",
        ARTIFACTS,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_answer_names_a_definition() {
        let defs = super::definitions();
        for doc in [super::backend(), super::leaderboard(), super::artifacts()] {
            let text = doc["paths"].to_string();
            for part in text.split("#/definitions/").skip(1) {
                let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
                assert!(defs.get(&name).is_some(), "{name}");
            }
        }
    }
}
