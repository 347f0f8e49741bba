//! Result values as CloudTrail Lake shows them: every value a string, in Trino's text forms
//! (timestamps `2023-01-22 16:53:53.000`, maps `{k=v, …}`, rows `{f=v, …}`, arrays `[a, b]`,
//! doubles with a fraction), NULL as `None`.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::{ArrowError, DataType};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// The rows of `batches`, each value rendered.
pub fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<Option<String>>>, ArrowError> {
    let mut out = Vec::new();
    for batch in batches {
        let columns = batch.columns();
        for row in 0..batch.num_rows() {
            let mut values = Vec::with_capacity(columns.len());
            for column in columns {
                values.push(value(column.as_ref(), row)?);
            }
            out.push(values);
        }
    }
    Ok(out)
}

fn options() -> FormatOptions<'static> {
    FormatOptions::new()
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.3f"))
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.3f"))
        .with_date_format(Some("%Y-%m-%d"))
}

/// One value of `array` at `row`.
pub fn value(array: &dyn Array, row: usize) -> Result<Option<String>, ArrowError> {
    if array.is_null(row) {
        return Ok(None);
    }
    Ok(Some(match array.data_type() {
        DataType::Float64 => double(array.as_primitive::<arrow_array::types::Float64Type>().value(row)),
        DataType::Float32 => double(f64::from(array.as_primitive::<arrow_array::types::Float32Type>().value(row))),
        DataType::Map(_, _) => {
            let map = array.as_map();
            let entries = map.value(row);
            let keys = entries.column(0);
            let values = entries.column(1);
            let mut parts = Vec::with_capacity(entries.len());
            for i in 0..entries.len() {
                let key = value(keys.as_ref(), i)?.unwrap_or_else(|| "null".to_owned());
                let item = value(values.as_ref(), i)?.unwrap_or_else(|| "null".to_owned());
                parts.push(format!("{key}={item}"));
            }
            format!("{{{}}}", parts.join(", "))
        }
        DataType::Struct(fields) => {
            let structure = array.as_struct();
            let mut parts = Vec::with_capacity(fields.len());
            for (field, column) in fields.iter().zip(structure.columns()) {
                let item = value(column.as_ref(), row)?.unwrap_or_else(|| "null".to_owned());
                parts.push(format!("{}={item}", field.name()));
            }
            format!("{{{}}}", parts.join(", "))
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
            let element = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().value(row),
                DataType::LargeList(_) => array.as_list::<i64>().value(row),
                _ => array.as_fixed_size_list().value(row),
            };
            let mut parts = Vec::with_capacity(element.len());
            for i in 0..element.len() {
                parts.push(value(element.as_ref(), i)?.unwrap_or_else(|| "null".to_owned()));
            }
            format!("[{}]", parts.join(", "))
        }
        _ => ArrayFormatter::try_new(array, &options())?.value(row).to_string(),
    }))
}

/// Trino prints a double with at least one fractional digit, and in scientific notation from 1e7.
fn double(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".to_owned()
        } else if value > 0.0 {
            "Infinity".to_owned()
        } else {
            "-Infinity".to_owned()
        };
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-3..1e7).contains(&magnitude) {
        let text = format!("{value:E}");
        return match text.split_once('E') {
            Some((mantissa, exponent)) if !mantissa.contains('.') => format!("{mantissa}.0E{exponent}"),
            _ => text,
        };
    }
    let text = value.to_string();
    if text.contains('.') { text } else { format!("{text}.0") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_look_like_trino() {
        assert_eq!(double(2.0), "2.0");
        assert_eq!(double(1.5), "1.5");
        assert_eq!(double(0.0), "0.0");
        assert_eq!(double(12_345_678.0), "1.2345678E7");
        assert_eq!(double(1e10), "1.0E10");
    }
}
