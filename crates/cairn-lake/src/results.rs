//! A finished query's results: kept as a JSON file in the data directory (GetQueryResults pages
//! from it after a restart) and, for `DeliveryS3Uri`, written as gzip CSV where CloudTrail Lake puts
//! them: `<prefix>/AWSLogs/<account>/CloudTrail-Lake/Query/<YYYY>/<MM>/<DD>/<query-id>/result_1.csv.gz`.

use std::io::Write;
use std::path::Path;

pub use cairn_store::records::QueryResult;

/// Writes `result` durably (a temporary file renamed into place).
pub fn save(result: &QueryResult, path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let staging = path.with_extension("json.partial");
    let mut file = std::fs::File::create(&staging)?;
    serde_json::to_writer(&mut file, result)?;
    file.sync_all()?;
    std::fs::rename(&staging, path)
}

/// Reads results written by [`save`].
pub fn load(path: &Path) -> std::io::Result<QueryResult> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}

/// The bucket and key of a query's CSV under `uri` (`s3://bucket[/prefix]`).
pub fn result_key(uri: &str, account_id: &str, query_id: &str, created: jiff::Timestamp) -> (String, String) {
    // StartQuery refused any other form; a bare bucket name is taken as one.
    let (bucket, prefix) = cairn_model::names::s3_uri_parts(uri).unwrap_or((uri, ""));
    let prefix = prefix.trim_matches('/');
    let date = created.to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y/%m/%d").to_string();
    let key = format!("AWSLogs/{account_id}/CloudTrail-Lake/Query/{date}/{query_id}/result_1.csv.gz");
    let key = if prefix.is_empty() { key } else { format!("{prefix}/{key}") };
    (bucket.to_owned(), key)
}

/// The results as gzip-compressed CSV with a header row; NULL is an empty field.
pub fn csv_gzip(result: &QueryResult) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    {
        let mut writer = csv::Writer::from_writer(&mut encoder);
        writer.write_record(&result.columns)?;
        for row in &result.rows {
            writer.write_record(row.iter().map(|v| v.as_deref().unwrap_or("")))?;
        }
        writer.flush()?;
    }
    encoder.flush()?;
    Ok(encoder.finish()?)
}

/// The results as CSV text (the `cairn query --format csv` output).
pub fn csv_text(result: &QueryResult) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&result.columns)?;
    for row in &result.rows {
        writer.write_record(row.iter().map(|v| v.as_deref().unwrap_or("")))?;
    }
    Ok(String::from_utf8(writer.into_inner().map_err(|e| e.to_string())?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_lake_layout() {
        let created: jiff::Timestamp = "2024-03-05T10:00:00Z".parse().unwrap();
        assert_eq!(
            result_key("s3://bucket/some/prefix/", "111122223333", "q-1", created),
            (
                "bucket".to_owned(),
                "some/prefix/AWSLogs/111122223333/CloudTrail-Lake/Query/2024/03/05/q-1/result_1.csv.gz".to_owned()
            )
        );
        assert_eq!(
            result_key("s3://bucket", "1", "q", created).1,
            "AWSLogs/1/CloudTrail-Lake/Query/2024/03/05/q/result_1.csv.gz"
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let result = QueryResult {
            columns: vec!["a".into(), "b".into()],
            rows: vec![vec![Some("x,y".into()), None], vec![Some("say \"hi\"".into()), Some("1".into())]],
        };
        assert_eq!(csv_text(&result).unwrap(), "a,b\n\"x,y\",\n\"say \"\"hi\"\"\",1\n");
    }
}
