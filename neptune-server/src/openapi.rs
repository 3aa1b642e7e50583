//! The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json`.
//!
//! Written by hand (no code generator to build); a test checks that every documented route is
//! served and that every served route is documented.

use serde_json::{json, Value};

fn err_responses() -> Value {
    json!({
        "400": {"$ref": "#/components/responses/Error"},
        "401": {"$ref": "#/components/responses/Error"},
        "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"},
        "413": {"$ref": "#/components/responses/Error"},
        "422": {"$ref": "#/components/responses/Error"}
    })
}

fn ok(schema: Value, description: &str) -> Value {
    let mut r = err_responses();
    r["200"] = json!({
        "description": description,
        "content": {"application/json": {"schema": schema}}
    });
    r
}

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"},
           "description": "The object's sys/id, e.g. NLI-3"})
}

fn path_param() -> Value {
    json!({"name": "path", "in": "query", "required": true, "schema": {"type": "string"},
           "description": "A field path, e.g. train/loss"})
}

fn object_get(summary: &str, schema: Value, extra: Vec<Value>) -> Value {
    let mut params = vec![id_param()];
    params.extend(extra);
    json!({"get": {"summary": summary, "parameters": params, "responses": ok(schema, summary)}})
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The document.
pub fn document() -> Value {
    let page_params = || {
        vec![
            path_param(),
            json!({"name": "after", "in": "query", "schema": {"type": "number"},
                   "description": "Only points with a greater step"}),
            json!({"name": "limit", "in": "query",
                   "schema": {"type": "integer", "minimum": 1, "maximum": 100000}}),
        ]
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "neptune-server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Experiment metadata: objects (runs, models, model versions, projects) \
                and their typed fields. Writes are batches of operations from a client's upload \
                queue, applied once per (queue, seq). Every route but /health, /ready and this document \
                needs `Authorization: Bearer <token>` (per project; read or write scope)."
        },
        "security": [{"bearer": []}],
        "paths": {
            "/health": {"get": {"summary": "Liveness", "security": [],
                "responses": {"200": {"description": "ok",
                    "content": {"application/json": {"schema": r("Health")}}}}}},
            "/ready": {"get": {"summary": "Readiness: the database and the file store answer",
                "security": [],
                "responses": {"200": {"description": "ready"},
                    "503": {"description": "unavailable; `error` says what does not answer"}}}},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1"}}}},
            "/api/v1/objects": {
                "post": {"summary": "Create or resume an object (idempotent on custom_run_id, \
                        and on the queue id of a registration)",
                    "requestBody": {"required": true,
                        "content": {"application/json": {"schema": r("OpenBody")}}},
                    "responses": ok(r("ObjectInfo"), "The object and its fields")},
                "get": {"summary": "Ids of the objects of a kind in a project, oldest first",
                    "parameters": [
                        {"name": "project", "in": "query", "required": true, "schema": {"type": "string"}},
                        {"name": "kind", "in": "query", "required": true,
                         "schema": {"enum": ["run", "model", "model-version", "project"]}}],
                    "responses": ok(json!({"type": "object", "properties":
                        {"ids": {"type": "array", "items": {"type": "string"}}}}), "Ids")}
            },
            "/api/v1/objects/{id}/batches": {"post": {
                "summary": "Apply batches of operations of one upload queue, in order, each at \
                    most once per (queue, seq); refused operations are listed, the rest applied",
                "parameters": [id_param()],
                "requestBody": {"required": true,
                    "content": {"application/json": {"schema": r("BatchesBody")}}},
                "responses": ok(r("BatchesReply"), "One result per batch")}},
            "/api/v1/objects/{id}/structure": object_get("Every field and its type",
                json!({"type": "object", "properties": {"fields": {"type": "array",
                    "items": {"type": "object", "properties": {"path": {"type": "string"},
                    "type": r("FieldType")}}}}}), vec![]),
            "/api/v1/objects/{id}/value": object_get("A single-value field (null when missing)",
                json!({"type": "object", "properties": {"value": r("Value")}}), vec![path_param()]),
            "/api/v1/objects/{id}/values": object_get("Every single-value field at or below a prefix",
                json!({"type": "object", "properties": {"values": {"type": "array", "items":
                    {"type": "object", "properties": {"path": {"type": "string"}, "value": r("Value")}}}}}),
                vec![json!({"name": "prefix", "in": "query", "schema": {"type": "string"}})]),
            "/api/v1/objects/{id}/series": object_get("Summary of a series (null when missing)",
                json!({"type": "object", "properties": {"series": {"type": ["object", "null"]}}}),
                vec![path_param()]),
            "/api/v1/objects/{id}/series/floats": object_get("A page of a FloatSeries, as columns",
                r("FloatPage"), page_params()),
            "/api/v1/objects/{id}/series/strings": object_get("A page of a StringSeries, as columns",
                r("StringPage"), page_params()),
            "/api/v1/objects/{id}/file": object_get("The file of a File field (null when missing)",
                json!({"oneOf": [r("FileRef"), {"type": "null"}]}), vec![path_param()]),
            "/api/v1/objects/{id}/fileset": object_get("The entries of a FileSet, by path",
                json!({"type": "array", "items": {"type": "object"}}), vec![path_param()]),
            "/api/v1/objects/{id}/file-series": object_get("The entries of a FileSeries, by step",
                json!({"type": "array", "items": {"type": "object"}}), vec![path_param()]),
            "/api/v1/objects/{id}/artifact": object_get("The files of an Artifact, by path",
                json!({"type": "array", "items": {"type": "object"}}), vec![path_param()]),
            "/api/v1/tables": {"post": {"summary": "The table of the runs, models or model \
                    versions of a project that a query selects",
                "requestBody": {"required": true, "content": {"application/json": {"schema":
                    {"type": "object", "required": ["scope", "query"],
                     "properties": {"scope": {"type": "object"}, "query": {"type": "object"}}}}}},
                "responses": ok(json!({"type": "object", "properties": {"columns": {"type": "array"},
                    "rows": {"type": "array"}}}), "Columns and rows")}},
            "/api/v1/series/downsample": downsample_doc(),
            "/api/v1/files": {"put": {
                "summary": "Upload file content (streamed; content-addressed by SHA-256)",
                "parameters": [{"name": "extension", "in": "query", "schema": {"type": "string"}}],
                "requestBody": {"required": true,
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": ok(r("FileRef"), "The stored content")}},
            "/api/v1/files/{digest}": {
                "get": {"summary": "Download file content (streamed) that the token's project uploaded or \
                    refers to (404 for any other)",
                    "parameters": [{"name": "digest", "in": "path", "required": true,
                        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}],
                    "responses": {"200": {"description": "The content",
                        "content": {"application/octet-stream": {}}},
                        "400": {"$ref": "#/components/responses/Error"},
                        "404": {"$ref": "#/components/responses/Error"}}},
                "head": {"summary": "Whether the token's project holds the content (uploaded through it \
                    or referred to by one of its fields)",
                    "parameters": [{"name": "digest", "in": "path", "required": true,
                        "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}],
                    "responses": {"200": {"description": "Present"},
                        "404": {"description": "Absent"}}}
            }
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "nep_<id>_<secret>, from `neptune-server token create`"}},
            "responses": {"Error": {"description": "An error naming the problem",
                "content": {"application/json": {"schema": r("Error")}}}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error":
                    {"type": "object", "properties": {"code": {"type": "string"},
                    "message": {"type": "string"}}}}},
                "Health": {"type": "object", "properties": {"status": {"type": "string"},
                    "version": {"type": "string"}}},
                "FieldType": {"enum": ["Float", "Integer", "Boolean", "String", "Datetime",
                    "FloatSeries", "StringSeries", "FileSeries", "File", "FileSet", "StringSet",
                    "Artifact", "GitRef", "RunState"]},
                "Value": {"description": "Externally tagged: {\"Float\": 0.5}, {\"Integer\": 3}, \
                    {\"String\": \"x\"}, {\"Datetime\": \"RFC 3339\"}, {\"StringSet\": [..]}, \
                    {\"RunState\": \"Active\"}, {\"GitRef\": {..}}, {\"Artifact\": \"hash\"}; \
                    NaN and infinities as \"NaN\", \"Infinity\", \"-Infinity\""},
                "OpenBody": {"type": "object", "required": ["request"], "properties": {
                    "request": {"type": "object", "required": ["kind", "project", "owner"],
                        "properties": {
                            "kind": {"enum": ["Run", "Model", "ModelVersion", "Project"]},
                            "project": {"type": "string"},
                            "with_id": {"type": ["string", "null"]},
                            "custom_run_id": {"type": ["string", "null"], "maxLength": 36},
                            "model": {"type": ["string", "null"]},
                            "owner": {"type": "string"},
                            "read_only": {"type": "boolean"}}},
                    "queue": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]{1,64}$"}}},
                "ObjectInfo": {"type": "object", "properties": {"id": {"type": "string"},
                    "kind": {"type": "string"}, "project": {"type": "string"},
                    "created": {"type": "boolean"}, "fields": {"type": "array"}}},
                "Operation": {"type": "object", "required": ["type", "path"],
                    "description": "Tagged by `type`: AssignFloat {value}, AssignInt {value}, \
                        AssignBool {value}, AssignString {value}, AssignDatetime {value_ms}, \
                        AssignRunState, AssignGitRef, AssignArtifact, UploadFile {file}, \
                        UploadFileSet {files, reset}, LogFloats / LogStrings / LogImages \
                        {points: [{step, value, timestamp_ms}]}, ClearFloatLog, ClearStringLog, \
                        ClearImageLog, ConfigFloatSeries {min, max, unit}, AddStrings / \
                        RemoveStrings {values}, ClearStringSet, DeleteFiles {paths}, \
                        DeleteAttribute, TrackFilesToArtifact {files}, ClearArtifact, \
                        CopyAttribute {source_object, source_path}",
                    "properties": {"type": {"type": "string"}, "path": {"type": "string"}}},
                "BatchesBody": {"type": "object", "required": ["queue", "batches"], "properties": {
                    "queue": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                    "batches": {"type": "array", "items": {"type": "object",
                        "required": ["seq", "ops"], "properties": {
                            "seq": {"type": "integer", "minimum": 1},
                            "n": {"type": "integer"},
                            "ops": {"type": "array", "items": r("Operation")}}}}}},
                "BatchesReply": {"type": "object", "properties": {"results": {"type": "array",
                    "items": {"type": "object", "properties": {
                        "seq": {"type": "integer"}, "duplicate": {"type": "boolean"},
                        "rejected": {"type": "array", "items": {"type": "object", "properties": {
                            "index": {"type": "integer"}, "path": {"type": "string"},
                            "reason": {"type": "string"}}}}}}}}},
                "FloatPage": {"type": "object", "properties": {
                    "steps": {"type": "array", "items": {"type": "number"}},
                    "values": {"type": "array", "items": {"type": ["number", "string"]}},
                    "timestamps": {"type": "array", "items": {"type": "integer"}}}},
                "StringPage": {"type": "object", "properties": {
                    "steps": {"type": "array", "items": {"type": "number"}},
                    "values": {"type": "array", "items": {"type": "string"}},
                    "timestamps": {"type": "array", "items": {"type": "integer"}}}},
                "FileRef": {"type": "object", "properties": {
                    "digest": {"type": "string"}, "size": {"type": "integer"},
                    "extension": {"type": "string"}}}
            }
        }
    })
}

/// Every (method, path) the document describes, for the test that compares it with the router.
pub fn documented_routes() -> Vec<(String, String)> {
    let doc = document();
    let mut out = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            if let Some(methods) = item.as_object() {
                for m in methods.keys() {
                    out.push((m.to_uppercase(), path.clone()));
                }
            }
        }
    }
    out.sort();
    out
}

/// `POST /api/v1/series/downsample` (apart: the main document is at `json!`'s recursion limit).
fn downsample_doc() -> Value {
    json!({"post": {"summary": "FloatSeries of many objects and \
                    paths for charts: per pixel bucket the first, lowest, highest and last point \
                    (M4), every point when the range holds at most 2 per pixel",
                "requestBody": {"required": true, "content": {"application/json": {"schema":
                    {"type": "object", "required": ["series", "width"],
                     "properties": {"series": {"type": "array", "maxItems": 400, "items": {"type": "object",
                        "required": ["id", "path"], "properties": {"id": {"type": "string"}, "path": {"type": "string"}}}},
                        "x": {"enum": ["step", "time"]}, "from": {"type": "number"}, "to": {"type": "number"},
                        "width": {"type": "integer", "minimum": 1, "maximum": 8192}}}}}},
                "responses": ok(json!({"type": "object", "properties": {"series": {"type": "array",
                    "items": {"type": "object", "properties": {"x": {"type": "array"}, "y": {"type": "array"},
                    "points": {"type": "integer"}, "exact": {"type": "boolean"}, "found": {"type": "boolean"}}}}}}),
                    "One entry per requested series, in order")}})
}
