//! Date and time functions with Trino semantics.
//!
//! Timestamps keep their Arrow type (unit and time zone) through `date_add`; fields are read in
//! the timestamp's own time zone (UTC for zone-less timestamps), as Trino does for
//! `timestamp with time zone`. Calendar arithmetic clamps to the end of the month, like Joda time.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Float64Array, Int64Array, Int64Builder, PrimitiveArray, StringBuilder,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::common::{Result, exec_datafusion_err, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use jiff::tz::TimeZone;

use super::{Strs, check_arity, int_coercion, invoke, is_string, string_coercion};

pub(super) fn udfs() -> Vec<ScalarUDF> {
    let mut v: Vec<ScalarUDF> = FIELD_FUNCTIONS
        .iter()
        .map(|(name, aliases, field)| ScalarUDF::from(FieldFn::new(name, aliases, *field)))
        .collect();
    v.extend([
        ScalarUDF::from(DatePart::new()),
        ScalarUDF::from(DateAdd::new()),
        ScalarUDF::from(DateDiff::new()),
        ScalarUDF::from(DateTrunc::new()),
        ScalarUDF::from(Simple::new(SimpleKind::FromIso8601Timestamp)),
        ScalarUDF::from(Simple::new(SimpleKind::FromIso8601Date)),
        ScalarUDF::from(Simple::new(SimpleKind::ToIso8601)),
        ScalarUDF::from(Simple::new(SimpleKind::FromUnixtime)),
        ScalarUDF::from(Simple::new(SimpleKind::ToUnixtime)),
        ScalarUDF::from(Simple::new(SimpleKind::Date)),
        ScalarUDF::from(Simple::new(SimpleKind::LastDayOfMonth)),
        ScalarUDF::from(Simple::new(SimpleKind::DateFormat)),
        ScalarUDF::from(Simple::new(SimpleKind::FormatDatetime)),
        ScalarUDF::from(Simple::new(SimpleKind::DateParse)),
        ScalarUDF::from(Simple::new(SimpleKind::ParseDatetime)),
    ]);
    v
}

/// The Trino `date_part`, also used for `EXTRACT`.
pub(super) fn date_part_udf() -> ScalarUDF {
    ScalarUDF::from(DatePart::new())
}

const SECS_PER_DAY: i64 = 86_400;
const MS_PER_DAY: i64 = 86_400_000;

pub(crate) fn utc_ms() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

// ---------------------------------------------------------------------------------------------
// Civil calendar arithmetic (proleptic Gregorian, days since 1970-01-01)
// ---------------------------------------------------------------------------------------------

pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let d = i64::from(d);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(crate) fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// ISO day of week, Monday = 1 .. Sunday = 7.
fn iso_dow(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

fn iso_weeks_in_year(y: i64) -> i64 {
    let jan1 = iso_dow(days_from_civil(y, 1, 1));
    if jan1 == 4 || (jan1 == 3 && is_leap(y)) { 53 } else { 52 }
}

/// ISO week-numbering year and week of the given day.
fn iso_week(days: i64) -> (i64, i64) {
    let (y, _, _) = civil_from_days(days);
    let doy = days - days_from_civil(y, 1, 1) + 1;
    let week = (doy - iso_dow(days) + 10) / 7;
    if week < 1 {
        (y - 1, iso_weeks_in_year(y - 1))
    } else if week > iso_weeks_in_year(y) {
        (y + 1, 1)
    } else {
        (y, week)
    }
}

/// Adds months to a civil date, clamping the day to the end of the target month.
fn add_months(y: i64, m: u32, d: u32, months: i64) -> Result<(i64, u32, u32)> {
    let total = y
        .checked_mul(12)
        .and_then(|t| t.checked_add(i64::from(m) - 1))
        .and_then(|t| t.checked_add(months))
        .ok_or_else(|| exec_datafusion_err!("date arithmetic overflow"))?;
    let ny = total.div_euclid(12);
    let nm = (total.rem_euclid(12) + 1) as u32;
    Ok((ny, nm, d.min(days_in_month(ny, nm))))
}

// ---------------------------------------------------------------------------------------------
// Time zones and the i64 representation of dates and timestamps
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub(crate) enum Zone {
    Utc,
    Fixed(i64),
    Named(TimeZone),
}

/// Parses `+HH:MM`, `+HHMM`, `+HH` (or `-`) into seconds east of UTC.
fn parse_offset(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: Vec<u8> = b[1..].iter().copied().filter(|c| *c != b':').collect();
    if !digits.iter().all(u8::is_ascii_digit) || !(digits.len() == 2 || digits.len() == 4) {
        return None;
    }
    if b[1..].contains(&b':') && !(b.len() == 6 && b[3] == b':') {
        return None;
    }
    let num = |i: usize| i64::from(digits[i] - b'0') * 10 + i64::from(digits[i + 1] - b'0');
    let h = num(0);
    let m = if digits.len() == 4 { num(2) } else { 0 };
    if h > 18 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

impl Zone {
    pub(crate) fn parse(name: &str) -> Result<Zone> {
        let t = name.trim();
        if t.eq_ignore_ascii_case("utc")
            || t.eq_ignore_ascii_case("z")
            || t.eq_ignore_ascii_case("gmt")
            || t.eq_ignore_ascii_case("etc/utc")
            || t.eq_ignore_ascii_case("zulu")
        {
            return Ok(Zone::Utc);
        }
        if let Some(secs) = parse_offset(t) {
            return Ok(if secs == 0 { Zone::Utc } else { Zone::Fixed(secs) });
        }
        TimeZone::get(t).map(Zone::Named).map_err(|e| exec_datafusion_err!("unknown time zone '{t}': {e}"))
    }

    fn offset_at(&self, epoch_sec: i64) -> Result<i64> {
        match self {
            Zone::Utc => Ok(0),
            Zone::Fixed(s) => Ok(*s),
            Zone::Named(tz) => {
                let ts = jiff::Timestamp::from_second(epoch_sec)
                    .map_err(|e| exec_datafusion_err!("timestamp out of range: {e}"))?;
                Ok(i64::from(tz.to_offset(ts).seconds()))
            }
        }
    }

    fn offset_for_local(&self, local_sec: i64) -> Result<i64> {
        match self {
            Zone::Utc => Ok(0),
            Zone::Fixed(s) => Ok(*s),
            Zone::Named(tz) => {
                let (y, m, d) = civil_from_days(local_sec.div_euclid(SECS_PER_DAY));
                let sod = local_sec.rem_euclid(SECS_PER_DAY);
                let err = |e: jiff::Error| exec_datafusion_err!("timestamp out of range: {e}");
                let dt = jiff::civil::DateTime::new(
                    i16::try_from(y).map_err(|_| exec_datafusion_err!("year {y} out of range"))?,
                    m as i8,
                    d as i8,
                    (sod / 3600) as i8,
                    ((sod / 60) % 60) as i8,
                    (sod % 60) as i8,
                    0,
                )
                .map_err(err)?;
                let ts = tz.to_ambiguous_timestamp(dt).compatible().map_err(err)?;
                Ok(local_sec - ts.as_second())
            }
        }
    }

    /// Offset text as Trino prints it in ISO 8601 (`Z` for UTC).
    fn iso_suffix(&self, offset: i64) -> String {
        match self {
            Zone::Utc => "Z".to_string(),
            _ => offset_text(offset, true),
        }
    }
}

fn offset_text(offset: i64, colon: bool) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.abs();
    if colon {
        format!("{sign}{:02}:{:02}", a / 3600, (a / 60) % 60)
    } else {
        format!("{sign}{:02}{:02}", a / 3600, (a / 60) % 60)
    }
}

/// Converts between an Arrow date/timestamp column and i64 values in the column's unit, and
/// between instants and local wall-clock values in the column's time zone.
#[derive(Clone, Debug)]
pub(crate) struct Codec {
    dt: DataType,
    per_sec: i64,
    zone: Zone,
}

pub(crate) fn is_temporal(dt: &DataType) -> bool {
    matches!(dt, DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64)
}

fn per_sec(unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

impl Codec {
    pub(crate) fn new(dt: &DataType) -> Result<Self> {
        match dt {
            DataType::Date32 | DataType::Date64 => Ok(Codec { dt: dt.clone(), per_sec: 1000, zone: Zone::Utc }),
            DataType::Timestamp(unit, tz) => Ok(Codec {
                dt: dt.clone(),
                per_sec: per_sec(unit),
                zone: match tz {
                    Some(tz) => Zone::parse(tz)?,
                    None => Zone::Utc,
                },
            }),
            other => exec_err!("expected a date or timestamp, got {other}"),
        }
    }

    fn is_date(&self) -> bool {
        matches!(self.dt, DataType::Date32 | DataType::Date64)
    }

    /// Raw values in the codec's unit (dates as milliseconds).
    pub(crate) fn raw(&self, arr: &ArrayRef) -> Result<Int64Array> {
        Ok(match arr.data_type() {
            DataType::Date32 => arr.as_primitive::<Date32Type>().unary::<_, Int64Type>(|d| i64::from(d) * MS_PER_DAY),
            DataType::Date64 => arr.as_primitive::<Date64Type>().reinterpret_cast(),
            DataType::Timestamp(TimeUnit::Second, _) => arr.as_primitive::<TimestampSecondType>().reinterpret_cast(),
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                arr.as_primitive::<TimestampMillisecondType>().reinterpret_cast()
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                arr.as_primitive::<TimestampMicrosecondType>().reinterpret_cast()
            }
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                arr.as_primitive::<TimestampNanosecondType>().reinterpret_cast()
            }
            DataType::Null => Int64Array::new_null(arr.len()),
            other => return exec_err!("expected a date or timestamp, got {other}"),
        })
    }

    /// Builds a column of the codec's type from raw values.
    pub(crate) fn build(&self, vals: Int64Array) -> Result<ArrayRef> {
        Ok(match &self.dt {
            DataType::Date32 => {
                let out: Date32Array = vals.try_unary(|ms| {
                    i32::try_from(ms.div_euclid(MS_PER_DAY)).map_err(|_| exec_datafusion_err!("date out of range"))
                })?;
                Arc::new(out)
            }
            DataType::Date64 => Arc::new(vals.reinterpret_cast::<Date64Type>()),
            DataType::Timestamp(unit, tz) => match unit {
                TimeUnit::Second => {
                    Arc::new(vals.reinterpret_cast::<TimestampSecondType>().with_timezone_opt(tz.clone()))
                }
                TimeUnit::Millisecond => {
                    Arc::new(vals.reinterpret_cast::<TimestampMillisecondType>().with_timezone_opt(tz.clone()))
                }
                TimeUnit::Microsecond => {
                    Arc::new(vals.reinterpret_cast::<TimestampMicrosecondType>().with_timezone_opt(tz.clone()))
                }
                TimeUnit::Nanosecond => {
                    Arc::new(vals.reinterpret_cast::<TimestampNanosecondType>().with_timezone_opt(tz.clone()))
                }
            },
            other => return exec_err!("expected a date or timestamp, got {other}"),
        })
    }

    fn offset_at(&self, v: i64) -> Result<i64> {
        self.zone.offset_at(v.div_euclid(self.per_sec))
    }

    /// Instant → local wall-clock value, same unit.
    pub(crate) fn to_wall(&self, v: i64) -> Result<i64> {
        if matches!(self.zone, Zone::Utc) {
            return Ok(v);
        }
        let off = self.offset_at(v)?;
        off.checked_mul(self.per_sec)
            .and_then(|o| v.checked_add(o))
            .ok_or_else(|| exec_datafusion_err!("timestamp out of range"))
    }

    /// Local wall-clock value → instant, same unit.
    fn wall_to_instant(&self, w: i64) -> Result<i64> {
        if matches!(self.zone, Zone::Utc) {
            return Ok(w);
        }
        let off = self.zone.offset_for_local(w.div_euclid(self.per_sec))?;
        off.checked_mul(self.per_sec)
            .and_then(|o| w.checked_sub(o))
            .ok_or_else(|| exec_datafusion_err!("timestamp out of range"))
    }
}

/// A local wall-clock value split into calendar fields.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wall {
    days: i64,
    year: i64,
    month: u32,
    day: u32,
    /// Units since local midnight.
    tod: i64,
    per_sec: i64,
}

impl Wall {
    fn new(w: i64, per_sec: i64) -> Self {
        let per_day = per_sec * SECS_PER_DAY;
        let days = w.div_euclid(per_day);
        let tod = w.rem_euclid(per_day);
        let (year, month, day) = civil_from_days(days);
        Wall { days, year, month, day, tod, per_sec }
    }
    fn hour(&self) -> i64 {
        self.tod / (self.per_sec * 3600)
    }
    fn minute(&self) -> i64 {
        (self.tod / (self.per_sec * 60)) % 60
    }
    fn second(&self) -> i64 {
        (self.tod / self.per_sec) % 60
    }
    /// Fraction of the second in units.
    fn frac(&self) -> i64 {
        self.tod % self.per_sec
    }
    fn nanos(&self) -> i64 {
        self.frac() * (1_000_000_000 / self.per_sec)
    }
    fn millisecond(&self) -> i64 {
        self.nanos() / 1_000_000
    }
    fn day_of_year(&self) -> i64 {
        self.days - days_from_civil(self.year, 1, 1) + 1
    }
    fn dow(&self) -> i64 {
        iso_dow(self.days)
    }
}

fn join_wall(days: i64, tod: i64, per_sec: i64) -> Result<i64> {
    days.checked_mul(per_sec * SECS_PER_DAY)
        .and_then(|d| d.checked_add(tod))
        .ok_or_else(|| exec_datafusion_err!("timestamp out of range"))
}

// ---------------------------------------------------------------------------------------------
// Coercion helpers
// ---------------------------------------------------------------------------------------------

/// Dates and timestamps stay as they are; strings (and NULL) become `timestamp(3) with time zone`.
fn temporal_coercion(dt: &DataType, function: &str) -> Result<DataType> {
    match dt {
        d if is_temporal(d) => Ok(d.clone()),
        d if is_string(d) => Ok(utc_ms()),
        DataType::Null => Ok(utc_ms()),
        other => plan_err!("{function}: expected a date or timestamp argument, got {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Field extraction: year(), month(), day_of_week(), ...
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    DayOfWeek,
    DayOfYear,
    YearOfWeek,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
    Epoch,
}

const FIELD_FUNCTIONS: &[(&str, &[&str], Field)] = &[
    ("year", &[], Field::Year),
    ("quarter", &[], Field::Quarter),
    ("month", &[], Field::Month),
    ("week", &["week_of_year"], Field::Week),
    ("day", &["day_of_month"], Field::Day),
    ("day_of_week", &["dow"], Field::DayOfWeek),
    ("day_of_year", &["doy"], Field::DayOfYear),
    ("year_of_week", &["yow"], Field::YearOfWeek),
    ("hour", &[], Field::Hour),
    ("minute", &[], Field::Minute),
    ("second", &[], Field::Second),
    ("millisecond", &[], Field::Millisecond),
];

fn field_from_name(s: &str) -> Option<Field> {
    let s = s.trim().to_ascii_lowercase();
    Some(match s.as_str() {
        "year" | "years" | "y" => Field::Year,
        "quarter" | "quarters" => Field::Quarter,
        "month" | "months" => Field::Month,
        "week" | "weeks" | "week_of_year" => Field::Week,
        "day" | "days" | "day_of_month" => Field::Day,
        "dow" | "day_of_week" | "isodow" => Field::DayOfWeek,
        "doy" | "day_of_year" => Field::DayOfYear,
        "yow" | "year_of_week" | "isoyear" => Field::YearOfWeek,
        "hour" | "hours" => Field::Hour,
        "minute" | "minutes" => Field::Minute,
        "second" | "seconds" => Field::Second,
        "millisecond" | "milliseconds" => Field::Millisecond,
        "microsecond" | "microseconds" => Field::Microsecond,
        "nanosecond" | "nanoseconds" => Field::Nanosecond,
        "epoch" => Field::Epoch,
        _ => return None,
    })
}

fn extract_field(field: Field, codec: &Codec, v: i64) -> Result<i64> {
    if field == Field::Epoch {
        return Ok(v.div_euclid(codec.per_sec));
    }
    let w = Wall::new(codec.to_wall(v)?, codec.per_sec);
    Ok(match field {
        Field::Year => w.year,
        Field::Quarter => i64::from((w.month - 1) / 3 + 1),
        Field::Month => i64::from(w.month),
        Field::Week => iso_week(w.days).1,
        Field::Day => i64::from(w.day),
        Field::DayOfWeek => w.dow(),
        Field::DayOfYear => w.day_of_year(),
        Field::YearOfWeek => iso_week(w.days).0,
        Field::Hour => w.hour(),
        Field::Minute => w.minute(),
        Field::Second => w.second(),
        Field::Millisecond => w.millisecond(),
        Field::Microsecond => w.nanos() / 1000,
        Field::Nanosecond => w.nanos(),
        Field::Epoch => v.div_euclid(codec.per_sec),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct FieldFn {
    name: &'static str,
    aliases: Vec<String>,
    field: Field,
    signature: Signature,
}

impl FieldFn {
    fn new(name: &'static str, aliases: &[&str], field: Field) -> Self {
        FieldFn {
            name,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            field,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for FieldFn {
    fn name(&self) -> &str {
        self.name
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name, arg_types.len(), 1, 1)?;
        Ok(vec![temporal_coercion(&arg_types[0], self.name)?])
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(&args, |a, _| {
            let codec = Codec::new(a[0].data_type())?;
            let raw = codec.raw(&a[0])?;
            let out: Int64Array = raw.try_unary(|v| extract_field(self.field, &codec, v))?;
            Ok(Arc::new(out) as ArrayRef)
        })
    }
}

/// `date_part(unit, x)`, which also backs `EXTRACT(field FROM x)`: Trino fields, ISO week days.
#[derive(Debug, PartialEq, Eq, Hash)]
struct DatePart {
    signature: Signature,
    aliases: Vec<String>,
}

impl DatePart {
    fn new() -> Self {
        DatePart { signature: Signature::user_defined(Volatility::Immutable), aliases: vec!["datepart".to_string()] }
    }
}

impl ScalarUDFImpl for DatePart {
    fn name(&self) -> &str {
        "date_part"
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity("date_part", arg_types.len(), 2, 2)?;
        Ok(vec![string_coercion(&arg_types[0], "date_part")?, temporal_coercion(&arg_types[1], "date_part")?])
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(&args, |a, rows| {
            let units = Strs::new(&a[0], "date_part")?;
            let codec = Codec::new(a[1].data_type())?;
            let raw = codec.raw(&a[1])?;
            let mut out = Int64Builder::with_capacity(rows);
            for i in 0..rows {
                match (units.get(i), raw.is_valid(i)) {
                    (Some(u), true) => {
                        let field =
                            field_from_name(u).ok_or_else(|| exec_datafusion_err!("Invalid EXTRACT field: '{u}'"))?;
                        out.append_value(extract_field(field, &codec, raw.value(i))?);
                    }
                    _ => out.append_null(),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// date_add / date_diff
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

fn parse_unit(s: &str) -> Result<Unit> {
    let l = s.trim().to_ascii_lowercase();
    Ok(match l.strip_suffix('s').filter(|_| l.len() > 2).unwrap_or(&l) {
        "millisecond" => Unit::Millisecond,
        "second" => Unit::Second,
        "minute" => Unit::Minute,
        "hour" => Unit::Hour,
        "day" => Unit::Day,
        "week" => Unit::Week,
        "month" => Unit::Month,
        "quarter" => Unit::Quarter,
        "year" => Unit::Year,
        _ => return exec_err!("'{s}' is not a valid unit"),
    })
}

impl Unit {
    /// Length of a fixed unit in nanoseconds.
    fn nanos(self) -> Option<i128> {
        Some(match self {
            Unit::Millisecond => 1_000_000,
            Unit::Second => 1_000_000_000,
            Unit::Minute => 60_000_000_000,
            Unit::Hour => 3_600_000_000_000,
            Unit::Day => 86_400_000_000_000,
            Unit::Week => 604_800_000_000_000,
            _ => return None,
        })
    }
    fn is_time(self) -> bool {
        matches!(self, Unit::Millisecond | Unit::Second | Unit::Minute | Unit::Hour)
    }
}

fn date_add_one(codec: &Codec, unit: Unit, n: i64, v: i64) -> Result<i64> {
    let overflow = || exec_datafusion_err!("date_add overflow");
    if codec.is_date() && unit.is_time() {
        return exec_err!("date_add: '{unit:?}' is not a valid DATE field");
    }
    let ps = i128::from(codec.per_sec);
    if unit.is_time() {
        let unit_nanos = unit.nanos().ok_or_else(overflow)?;
        let delta = i128::from(n) * unit_nanos * ps / 1_000_000_000;
        return i64::try_from(i128::from(v) + delta).map_err(|_| overflow());
    }
    let w = Wall::new(codec.to_wall(v)?, codec.per_sec);
    let days = match unit {
        Unit::Day => w.days.checked_add(n).ok_or_else(overflow)?,
        Unit::Week => n.checked_mul(7).and_then(|d| w.days.checked_add(d)).ok_or_else(overflow)?,
        Unit::Month | Unit::Quarter | Unit::Year => {
            let months = match unit {
                Unit::Month => Some(n),
                Unit::Quarter => n.checked_mul(3),
                _ => n.checked_mul(12),
            }
            .ok_or_else(overflow)?;
            let (y, m, d) = add_months(w.year, w.month, w.day, months)?;
            days_from_civil(y, m, d)
        }
        _ => return Err(overflow()),
    };
    codec.wall_to_instant(join_wall(days, w.tod, codec.per_sec)?)
}

/// Joda-style difference in whole months between two wall values (`b - a`).
fn month_diff(a: i64, b: i64, per_sec: i64) -> i64 {
    if b < a {
        return -month_diff(b, a, per_sec);
    }
    let (min, sub) = (Wall::new(b, per_sec), Wall::new(a, per_sec));
    let mut diff = (min.year - sub.year) * 12 + i64::from(min.month) - i64::from(sub.month);
    let mut sub_day = sub.day;
    if min.day == days_in_month(min.year, min.month) && sub.day > min.day {
        sub_day = min.day;
    }
    let per_day = per_sec * SECS_PER_DAY;
    let min_rem = i128::from(min.day - 1) * i128::from(per_day) + i128::from(min.tod);
    let sub_rem = i128::from(sub_day - 1) * i128::from(per_day) + i128::from(sub.tod);
    if min_rem < sub_rem {
        diff -= 1;
    }
    diff
}

/// Joda-style difference in whole years between two wall values (`b - a`).
fn year_diff(a: i64, b: i64, per_sec: i64) -> i64 {
    if b < a {
        return -year_diff(b, a, per_sec);
    }
    let (min, sub) = (Wall::new(b, per_sec), Wall::new(a, per_sec));
    let per_day = i128::from(per_sec * SECS_PER_DAY);
    let rem = |w: &Wall| i128::from(w.days - days_from_civil(w.year, 1, 1)) * per_day + i128::from(w.tod);
    let feb29 = 59 * per_day;
    let mut min_rem = rem(&min);
    let mut sub_rem = rem(&sub);
    if sub_rem >= feb29 && is_leap(sub.year) {
        if !is_leap(min.year) {
            sub_rem -= per_day;
        }
    } else if min_rem >= feb29 && is_leap(min.year) {
        min_rem -= per_day;
    }
    let mut diff = min.year - sub.year;
    if min_rem < sub_rem {
        diff -= 1;
    }
    diff
}

fn date_diff_one(codec: &Codec, unit: Unit, a: i64, b: i64) -> Result<i64> {
    if codec.is_date() && unit.is_time() {
        return exec_err!("date_diff: '{unit:?}' is not a valid DATE field");
    }
    if unit.is_time() {
        let unit_nanos = unit.nanos().unwrap_or(1);
        let d = (i128::from(b) - i128::from(a)) * (1_000_000_000 / i128::from(codec.per_sec));
        return i64::try_from(d / unit_nanos).map_err(|_| exec_datafusion_err!("overflow"));
    }
    let (wa, wb) = (codec.to_wall(a)?, codec.to_wall(b)?);
    Ok(match unit {
        Unit::Day | Unit::Week => {
            let unit_units = if unit == Unit::Day { 1 } else { 7 } * SECS_PER_DAY * codec.per_sec;
            ((i128::from(wb) - i128::from(wa)) / i128::from(unit_units)) as i64
        }
        Unit::Month => month_diff(wa, wb, codec.per_sec),
        Unit::Quarter => month_diff(wa, wb, codec.per_sec) / 3,
        _ => year_diff(wa, wb, codec.per_sec),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DateAdd {
    signature: Signature,
}

impl DateAdd {
    fn new() -> Self {
        DateAdd { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for DateAdd {
    fn name(&self) -> &str {
        "date_add"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        check_arity("date_add", t.len(), 3, 3)?;
        Ok(vec![
            string_coercion(&t[0], "date_add")?,
            int_coercion(&t[1], "date_add")?,
            temporal_coercion(&t[2], "date_add")?,
        ])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        match t.get(2) {
            Some(d) if is_temporal(d) => Ok(d.clone()),
            _ => Ok(utc_ms()),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(&args, |a, rows| {
            let units = Strs::new(&a[0], "date_add")?;
            let n = a[1].as_primitive::<Int64Type>();
            let codec = Codec::new(a[2].data_type())?;
            let raw = codec.raw(&a[2])?;
            let mut out = Int64Builder::with_capacity(rows);
            let mut cached: Option<(&str, Unit)> = None;
            for i in 0..rows {
                match (units.get(i), n.is_valid(i), raw.is_valid(i)) {
                    (Some(u), true, true) => {
                        let unit = match cached {
                            Some((s, unit)) if s == u => unit,
                            _ => {
                                let unit = parse_unit(u)?;
                                cached = Some((u, unit));
                                unit
                            }
                        };
                        out.append_value(date_add_one(&codec, unit, n.value(i), raw.value(i))?);
                    }
                    _ => out.append_null(),
                }
            }
            codec.build(out.finish())
        })
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DateDiff {
    signature: Signature,
}

impl DateDiff {
    fn new() -> Self {
        DateDiff { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for DateDiff {
    fn name(&self) -> &str {
        "date_diff"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        check_arity("date_diff", t.len(), 3, 3)?;
        let a = temporal_coercion(&t[1], "date_diff")?;
        let b = temporal_coercion(&t[2], "date_diff")?;
        // Both sides must share one type; prefer a timestamp over a date.
        let common = if a == b || matches!(a, DataType::Timestamp(_, _)) {
            a
        } else if matches!(b, DataType::Timestamp(_, _)) {
            b
        } else {
            DataType::Date32
        };
        Ok(vec![string_coercion(&t[0], "date_diff")?, common.clone(), common])
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(&args, |a, rows| {
            let units = Strs::new(&a[0], "date_diff")?;
            let codec = Codec::new(a[1].data_type())?;
            let x = codec.raw(&a[1])?;
            let y = codec.raw(&a[2])?;
            let mut out = Int64Builder::with_capacity(rows);
            for i in 0..rows {
                match (units.get(i), x.is_valid(i), y.is_valid(i)) {
                    (Some(u), true, true) => {
                        out.append_value(date_diff_one(&codec, parse_unit(u)?, x.value(i), y.value(i))?);
                    }
                    _ => out.append_null(),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// Trino's `date_trunc(unit, x)`: `x` rounded down to the unit in its own time zone (weeks start on
/// Monday), of `x`'s type. It replaces DataFusion's, which formats the zone name of every row of a
/// `timestamp with time zone` and was most of the time of a per-hour count.
#[derive(Debug, PartialEq, Eq, Hash)]
struct DateTrunc {
    signature: Signature,
}

impl DateTrunc {
    fn new() -> Self {
        DateTrunc { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for DateTrunc {
    fn name(&self) -> &str {
        "date_trunc"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        check_arity("date_trunc", t.len(), 2, 2)?;
        Ok(vec![string_coercion(&t[0], "date_trunc")?, temporal_coercion(&t[1], "date_trunc")?])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        match t.get(1) {
            Some(d) if is_temporal(d) => Ok(d.clone()),
            _ => Ok(utc_ms()),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke(&args, |a, rows| {
            let units = Strs::new(&a[0], "date_trunc")?;
            let codec = Codec::new(a[1].data_type())?;
            let raw = codec.raw(&a[1])?;
            let mut cached: Option<(&str, Unit)> = None;
            let mut unit_of = |i: usize| -> Result<Option<Unit>> {
                let Some(u) = units.get(i) else { return Ok(None) };
                if let Some((_, unit)) = cached.filter(|(s, _)| *s == u) {
                    return Ok(Some(unit));
                }
                let unit = parse_unit(u)?;
                if codec.is_date() && unit.is_time() {
                    return exec_err!("date_trunc: '{u}' is not a valid DATE field");
                }
                cached = Some((u, unit));
                Ok(Some(unit))
            };
            let mut out = Int64Builder::with_capacity(rows);
            for i in 0..rows {
                match unit_of(i)? {
                    Some(unit) if raw.is_valid(i) => out.append_value(date_trunc_one(&codec, unit, raw.value(i))?),
                    _ => out.append_null(),
                }
            }
            codec.build(out.finish())
        })
    }
}

fn date_trunc_one(codec: &Codec, unit: Unit, v: i64) -> Result<i64> {
    let ps = codec.per_sec;
    let step = match unit {
        Unit::Millisecond => (ps / 1000).max(1),
        Unit::Second => ps,
        Unit::Minute => ps * 60,
        Unit::Hour => ps * 3600,
        _ => 0,
    };
    // Whole hours and smaller: every zone's offset is a whole number of minutes, except a few
    // historical ones, so only UTC takes the shortcut of rounding the instant itself.
    if step > 0 && matches!(codec.zone, Zone::Utc) {
        return Ok(v - v.rem_euclid(step));
    }
    let w = Wall::new(codec.to_wall(v)?, ps);
    let (days, tod) = match unit {
        Unit::Millisecond | Unit::Second | Unit::Minute | Unit::Hour => (w.days, w.tod - w.tod.rem_euclid(step)),
        Unit::Day => (w.days, 0),
        Unit::Week => (w.days - (w.dow() - 1), 0),
        Unit::Month => (days_from_civil(w.year, w.month, 1), 0),
        Unit::Quarter => (days_from_civil(w.year, (w.month - 1) / 3 * 3 + 1, 1), 0),
        Unit::Year => (days_from_civil(w.year, 1, 1), 0),
    };
    codec.wall_to_instant(join_wall(days, tod, ps)?)
}

// ---------------------------------------------------------------------------------------------
// ISO 8601 parsing
// ---------------------------------------------------------------------------------------------

/// A parsed ISO 8601 date or date-time: local fields and an optional UTC offset in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IsoDateTime {
    pub(crate) days: i64,
    pub(crate) nanos_of_day: i64,
    pub(crate) offset: Option<i64>,
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    /// Reads between `min` and `max` ASCII digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let start = self.i;
        let mut v: i64 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    v = v.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
                    self.i += 1;
                }
                _ => break,
            }
        }
        let n = self.i - start;
        (n >= min).then_some((v, n))
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
}

/// Parses `YYYY[-MM[-DD]][(T| )hh[:mm[:ss[.fff]]]][Z|±hh[:mm]]`.
pub(crate) fn parse_iso8601(s: &str, allow_time: bool) -> Option<IsoDateTime> {
    let s = s.trim();
    let mut c = Cursor { b: s.as_bytes(), i: 0 };
    let neg = c.eat(b'-');
    if !neg {
        c.eat(b'+');
    }
    let (mut y, _) = c.digits(4, 6)?;
    if neg {
        y = -y;
    }
    let (mut m, mut d) = (1, 1);
    if c.eat(b'-') {
        m = c.digits(2, 2)?.0;
        if c.eat(b'-') {
            d = c.digits(2, 2)?.0;
        }
    }
    if !(1..=12).contains(&m) || d < 1 || d > i64::from(days_in_month(y, m as u32)) {
        return None;
    }
    let days = days_from_civil(y, m as u32, d as u32);
    let mut nanos: i64 = 0;
    let mut offset = None;
    if !c.done() {
        if !allow_time || !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
            return None;
        }
        let h = c.digits(2, 2)?.0;
        let (mut mi, mut se) = (0, 0);
        if c.eat(b':') {
            mi = c.digits(2, 2)?.0;
            if c.eat(b':') {
                se = c.digits(2, 2)?.0;
                if c.eat(b'.') || c.eat(b',') {
                    let (f, n) = c.digits(1, 9)?;
                    nanos = f * 10_i64.pow(9 - n as u32);
                    // Ignore digits beyond nanoseconds.
                    while matches!(c.peek(), Some(b'0'..=b'9')) {
                        c.i += 1;
                    }
                }
            }
        }
        if h > 24 || mi > 59 || se > 59 || (h == 24 && (mi, se, nanos) != (0, 0, 0)) {
            return None;
        }
        nanos += ((h * 60 + mi) * 60 + se) * 1_000_000_000;
        if !c.done() {
            if c.eat(b'Z') || c.eat(b'z') {
                offset = Some(0);
            } else {
                let rest = std::str::from_utf8(c.b.get(c.i..)?).ok()?.trim();
                offset = Some(parse_offset(rest)?);
                c.i = c.b.len();
            }
        }
        if !c.done() {
            return None;
        }
    }
    Some(IsoDateTime { days, nanos_of_day: nanos, offset })
}

impl IsoDateTime {
    /// Milliseconds since the epoch, taking the offset (or UTC) into account.
    fn epoch_millis(&self) -> Option<i64> {
        let local = i128::from(self.days) * i128::from(MS_PER_DAY) + i128::from(self.nanos_of_day / 1_000_000);
        let off = i128::from(self.offset.unwrap_or(0)) * 1000;
        i64::try_from(local - off).ok()
    }
}

// ---------------------------------------------------------------------------------------------
// Formatting: to_iso8601, date_format (MySQL), format_datetime (Joda)
// ---------------------------------------------------------------------------------------------

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

fn month_name(m: u32) -> &'static str {
    MONTHS.get((m as usize).wrapping_sub(1)).copied().unwrap_or("")
}
fn weekday_name(dow: i64) -> &'static str {
    WEEKDAYS.get((dow as usize).wrapping_sub(1)).copied().unwrap_or("")
}
fn short(s: &str) -> &str {
    s.get(..3).unwrap_or(s)
}

fn pad(out: &mut String, v: i64, width: usize) {
    use std::fmt::Write;
    if v < 0 {
        let _ = write!(out, "-{:0width$}", -(v as i128), width = width);
    } else {
        let _ = write!(out, "{v:0width$}");
    }
}

fn to_iso8601(codec: &Codec, v: i64) -> Result<String> {
    let wall = codec.to_wall(v)?;
    let w = Wall::new(wall, codec.per_sec);
    let mut s = String::with_capacity(32);
    pad(&mut s, w.year, 4);
    s.push('-');
    pad(&mut s, i64::from(w.month), 2);
    s.push('-');
    pad(&mut s, i64::from(w.day), 2);
    if matches!(codec.dt, DataType::Date32 | DataType::Date64) {
        return Ok(s);
    }
    s.push('T');
    pad(&mut s, w.hour(), 2);
    s.push(':');
    pad(&mut s, w.minute(), 2);
    s.push(':');
    pad(&mut s, w.second(), 2);
    let digits = match codec.per_sec {
        1 => 0,
        1_000 => 3,
        1_000_000 => 6,
        _ => 9,
    };
    if digits > 0 {
        s.push('.');
        pad(&mut s, w.frac(), digits);
    }
    if let DataType::Timestamp(_, Some(_)) = codec.dt {
        let off = codec.offset_at(v)?;
        s.push_str(&codec.zone.iso_suffix(off));
    }
    Ok(s)
}

fn mysql_format(codec: &Codec, v: i64, fmt: &str) -> Result<String> {
    let w = Wall::new(codec.to_wall(v)?, codec.per_sec);
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut chars = fmt.chars();
    let hour12 = |h: i64| if h % 12 == 0 { 12 } else { h % 12 };
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        let Some(spec) = chars.next() else {
            break;
        };
        match spec {
            'a' => out.push_str(short(weekday_name(w.dow()))),
            'b' => out.push_str(short(month_name(w.month))),
            'c' => pad(&mut out, i64::from(w.month), 1),
            'D' => {
                let d = w.day;
                let suffix = match (d % 10, d % 100) {
                    (_, 11..=13) => "th",
                    (1, _) => "st",
                    (2, _) => "nd",
                    (3, _) => "rd",
                    _ => "th",
                };
                pad(&mut out, i64::from(d), 1);
                out.push_str(suffix);
            }
            'd' => pad(&mut out, i64::from(w.day), 2),
            'e' => pad(&mut out, i64::from(w.day), 1),
            'f' => pad(&mut out, w.nanos() / 1000, 6),
            'H' => pad(&mut out, w.hour(), 2),
            'h' | 'I' => pad(&mut out, hour12(w.hour()), 2),
            'i' => pad(&mut out, w.minute(), 2),
            'j' => pad(&mut out, w.day_of_year(), 3),
            'k' => pad(&mut out, w.hour(), 1),
            'l' => pad(&mut out, hour12(w.hour()), 1),
            'M' => out.push_str(month_name(w.month)),
            'm' => pad(&mut out, i64::from(w.month), 2),
            'p' => out.push_str(if w.hour() < 12 { "AM" } else { "PM" }),
            'r' => {
                pad(&mut out, hour12(w.hour()), 2);
                out.push(':');
                pad(&mut out, w.minute(), 2);
                out.push(':');
                pad(&mut out, w.second(), 2);
                out.push_str(if w.hour() < 12 { " AM" } else { " PM" });
            }
            'S' | 's' => pad(&mut out, w.second(), 2),
            'T' => {
                pad(&mut out, w.hour(), 2);
                out.push(':');
                pad(&mut out, w.minute(), 2);
                out.push(':');
                pad(&mut out, w.second(), 2);
            }
            'v' => pad(&mut out, iso_week(w.days).1, 2),
            'W' => out.push_str(weekday_name(w.dow())),
            'x' => pad(&mut out, iso_week(w.days).0, 4),
            'Y' => pad(&mut out, w.year, 4),
            'y' => pad(&mut out, w.year.rem_euclid(100), 2),
            'U' | 'u' | 'V' | 'w' | 'X' => {
                return exec_err!("date_format: %{spec} is not supported");
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// A Joda-Time pattern token.
#[derive(Debug, Clone, PartialEq, Eq)]
enum JodaToken {
    Literal(String),
    Field(char, usize),
}

fn parse_joda(fmt: &str) -> Result<Vec<JodaToken>> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                out.push(JodaToken::Literal("'".into()));
                i += 2;
                continue;
            }
            let mut lit = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => break,
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        lit.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        lit.push(ch);
                        i += 1;
                    }
                }
            }
            out.push(JodaToken::Literal(lit));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while chars.get(i) == Some(&c) {
                i += 1;
            }
            if !"GCYxwweEyDMdaKhHkmsSzZu".contains(c) {
                return exec_err!("Illegal pattern component: {}", chars[start..i].iter().collect::<String>());
            }
            out.push(JodaToken::Field(c, i - start));
        } else {
            out.push(JodaToken::Literal(c.to_string()));
            i += 1;
        }
    }
    Ok(out)
}

fn joda_format(codec: &Codec, v: i64, tokens: &[JodaToken]) -> Result<String> {
    let offset = codec.offset_at(v)?;
    let w = Wall::new(codec.to_wall(v)?, codec.per_sec);
    let mut out = String::with_capacity(32);
    for t in tokens {
        match t {
            JodaToken::Literal(s) => out.push_str(s),
            JodaToken::Field(c, n) => {
                let n = *n;
                match c {
                    'G' => out.push_str(if w.year > 0 { "AD" } else { "BC" }),
                    'C' => pad(&mut out, w.year.div_euclid(100), n),
                    'y' | 'Y' | 'u' | 'x' => {
                        let y = if *c == 'x' { iso_week(w.days).0 } else { w.year };
                        if n == 2 {
                            pad(&mut out, y.rem_euclid(100), 2);
                        } else {
                            pad(&mut out, y, n);
                        }
                    }
                    'w' => pad(&mut out, iso_week(w.days).1, n),
                    'e' => pad(&mut out, w.dow(), n),
                    'E' => {
                        let name = weekday_name(w.dow());
                        out.push_str(if n >= 4 { name } else { short(name) });
                    }
                    'D' => pad(&mut out, w.day_of_year(), n),
                    'M' => match n {
                        1 | 2 => pad(&mut out, i64::from(w.month), n),
                        3 => out.push_str(short(month_name(w.month))),
                        _ => out.push_str(month_name(w.month)),
                    },
                    'd' => pad(&mut out, i64::from(w.day), n),
                    'a' => out.push_str(if w.hour() < 12 { "AM" } else { "PM" }),
                    'K' => pad(&mut out, w.hour() % 12, n),
                    'h' => pad(&mut out, if w.hour() % 12 == 0 { 12 } else { w.hour() % 12 }, n),
                    'H' => pad(&mut out, w.hour(), n),
                    'k' => pad(&mut out, if w.hour() == 0 { 24 } else { w.hour() }, n),
                    'm' => pad(&mut out, w.minute(), n),
                    's' => pad(&mut out, w.second(), n),
                    'S' => {
                        let nanos = w.nanos();
                        let digits = n.min(9);
                        let v = nanos / 10_i64.pow(9 - digits as u32);
                        pad(&mut out, v, digits);
                        for _ in digits..n {
                            out.push('0');
                        }
                    }
                    'z' => match &codec.zone {
                        Zone::Utc => out.push_str("UTC"),
                        _ => out.push_str(&offset_text(offset, true)),
                    },
                    'Z' => match n {
                        1 => out.push_str(&offset_text(offset, false)),
                        2 => out.push_str(&offset_text(offset, true)),
                        _ => match &codec.zone {
                            Zone::Utc => out.push_str("UTC"),
                            Zone::Named(tz) => out.push_str(tz.iana_name().unwrap_or("UTC")),
                            Zone::Fixed(_) => out.push_str(&offset_text(offset, true)),
                        },
                    },
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Parsing: date_parse (MySQL), parse_datetime (Joda)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Parsed {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    doy: Option<i64>,
    hour: i64,
    minute: i64,
    second: i64,
    nanos: i64,
    pm: Option<bool>,
    hour12: bool,
    offset: Option<i64>,
    zone: Option<Zone>,
}

impl Parsed {
    /// Milliseconds since the epoch of the parsed local fields (offset applied if any).
    fn epoch_millis(&self) -> Option<i64> {
        let year = self.year.unwrap_or(1970);
        let days = if let Some(doy) = self.doy {
            if doy < 1 || doy > if is_leap(year) { 366 } else { 365 } {
                return None;
            }
            days_from_civil(year, 1, 1) + doy - 1
        } else {
            let m = self.month.unwrap_or(1);
            let d = self.day.unwrap_or(1);
            if !(1..=12).contains(&m) || d < 1 || d > i64::from(days_in_month(year, m as u32)) {
                return None;
            }
            days_from_civil(year, m as u32, d as u32)
        };
        let mut hour = self.hour;
        if self.hour12 {
            if !(1..=12).contains(&hour) {
                return None;
            }
            hour %= 12;
        }
        if self.pm == Some(true) {
            hour = (hour % 12) + 12;
        }
        if hour > 23 || self.minute > 59 || self.second > 59 {
            return None;
        }
        let local_ms = days.checked_mul(MS_PER_DAY)?
            + ((hour * 60 + self.minute) * 60 + self.second) * 1000
            + self.nanos / 1_000_000;
        let off = match (&self.offset, &self.zone) {
            (Some(o), _) => *o,
            (None, Some(z)) => z.offset_for_local(local_ms.div_euclid(1000)).ok()?,
            _ => 0,
        };
        local_ms.checked_sub(off * 1000)
    }
}

fn parse_name(c: &mut Cursor<'_>, names: &[&str]) -> Option<usize> {
    let rest = std::str::from_utf8(c.b.get(c.i..)?).ok()?;
    // Prefer full names over abbreviations.
    for (idx, name) in names.iter().enumerate() {
        if rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name) {
            c.i += name.len();
            return Some(idx);
        }
    }
    for (idx, name) in names.iter().enumerate() {
        let s = short(name);
        if rest.len() >= 3 && rest.is_char_boundary(3) && rest[..3].eq_ignore_ascii_case(s) {
            c.i += 3;
            return Some(idx);
        }
    }
    None
}

fn parse_ampm(c: &mut Cursor<'_>) -> Option<bool> {
    let rest = c.b.get(c.i..c.i + 2)?;
    let pm = if rest.eq_ignore_ascii_case(b"AM") {
        false
    } else if rest.eq_ignore_ascii_case(b"PM") {
        true
    } else {
        return None;
    };
    c.i += 2;
    Some(pm)
}

fn parse_signed_digits(c: &mut Cursor<'_>, min: usize, max: usize) -> Option<i64> {
    let neg = c.eat(b'-');
    if !neg {
        c.eat(b'+');
    }
    let (v, _) = c.digits(min, max)?;
    Some(if neg { -v } else { v })
}

fn parse_fraction(c: &mut Cursor<'_>, max: usize) -> Option<i64> {
    let (f, n) = c.digits(1, max)?;
    Some(f * 10_i64.pow(9 - n.min(9) as u32))
}

fn parse_offset_at(c: &mut Cursor<'_>) -> Option<i64> {
    if c.eat(b'Z') || c.eat(b'z') {
        return Some(0);
    }
    let start = c.i;
    let mut end = start;
    while end < c.b.len() && (end == start || b"0123456789:".contains(&c.b[end])) {
        end += 1;
    }
    let s = std::str::from_utf8(c.b.get(start..end)?).ok()?;
    let off = parse_offset(s)?;
    c.i = end;
    Some(off)
}

fn mysql_parse(s: &str, fmt: &str) -> Option<i64> {
    let mut c = Cursor { b: s.as_bytes(), i: 0 };
    let mut p = Parsed::default();
    let f = fmt.as_bytes();
    let mut i = 0;
    while i < f.len() {
        let ch = f[i];
        if ch != b'%' {
            if !c.eat(ch) {
                return None;
            }
            i += 1;
            continue;
        }
        let spec = *f.get(i + 1)?;
        i += 2;
        match spec {
            b'Y' => p.year = Some(parse_signed_digits(&mut c, 1, 4)?),
            b'y' => {
                let y = c.digits(2, 2)?.0;
                p.year = Some(if y < 70 { 2000 + y } else { 1900 + y });
            }
            b'm' | b'c' => p.month = Some(c.digits(1, 2)?.0),
            b'd' | b'e' => p.day = Some(c.digits(1, 2)?.0),
            b'H' | b'k' => p.hour = c.digits(1, 2)?.0,
            b'h' | b'I' | b'l' => {
                p.hour = c.digits(1, 2)?.0;
                p.hour12 = true;
            }
            b'i' => p.minute = c.digits(1, 2)?.0,
            b'S' | b's' => p.second = c.digits(1, 2)?.0,
            b'f' => p.nanos = parse_fraction(&mut c, 9)?,
            b'j' => p.doy = Some(c.digits(1, 3)?.0),
            b'M' | b'b' => p.month = Some(parse_name(&mut c, &MONTHS)? as i64 + 1),
            b'a' | b'W' => {
                parse_name(&mut c, &WEEKDAYS)?;
            }
            b'p' => p.pm = Some(parse_ampm(&mut c)?),
            b'T' => {
                p.hour = c.digits(1, 2)?.0;
                c.eat(b':').then_some(())?;
                p.minute = c.digits(1, 2)?.0;
                c.eat(b':').then_some(())?;
                p.second = c.digits(1, 2)?.0;
            }
            b'r' => {
                p.hour = c.digits(1, 2)?.0;
                p.hour12 = true;
                c.eat(b':').then_some(())?;
                p.minute = c.digits(1, 2)?.0;
                c.eat(b':').then_some(())?;
                p.second = c.digits(1, 2)?.0;
                while c.eat(b' ') {}
                p.pm = Some(parse_ampm(&mut c)?);
            }
            other => {
                if !c.eat(other) {
                    return None;
                }
            }
        }
    }
    if !c.done() {
        return None;
    }
    p.epoch_millis()
}

fn joda_parse(s: &str, tokens: &[JodaToken]) -> Option<i64> {
    let mut c = Cursor { b: s.as_bytes(), i: 0 };
    let mut p = Parsed::default();
    for (idx, t) in tokens.iter().enumerate() {
        let next_is_number = matches!(
            tokens.get(idx + 1),
            Some(JodaToken::Field(n, _)) if "CYxwweyDdKhHkmsSu".contains(*n)
                || (*n == 'M' && matches!(tokens.get(idx + 1), Some(JodaToken::Field(_, k)) if *k <= 2))
        );
        match t {
            JodaToken::Literal(lit) => {
                for b in lit.bytes() {
                    if !c.eat(b) {
                        return None;
                    }
                }
            }
            JodaToken::Field(ch, n) => {
                let n = *n;
                // Adjacent numeric fields are read with a fixed width.
                let max = |default: usize| if next_is_number { n.max(1) } else { default };
                match ch {
                    'y' | 'Y' | 'u' => {
                        if n == 2 {
                            let y = c.digits(2, 2)?.0;
                            p.year = Some(if y < 70 { 2000 + y } else { 1900 + y });
                        } else {
                            p.year = Some(parse_signed_digits(&mut c, 1, max(9))?);
                        }
                    }
                    'x' | 'C' | 'w' | 'e' => {
                        c.digits(1, max(9))?;
                    }
                    'E' => {
                        parse_name(&mut c, &WEEKDAYS)?;
                    }
                    'D' => p.doy = Some(c.digits(1, max(3))?.0),
                    'M' => {
                        if n >= 3 {
                            p.month = Some(parse_name(&mut c, &MONTHS)? as i64 + 1);
                        } else {
                            p.month = Some(c.digits(1, max(2))?.0);
                        }
                    }
                    'd' => p.day = Some(c.digits(1, max(2))?.0),
                    'a' => p.pm = Some(parse_ampm(&mut c)?),
                    'K' => p.hour = c.digits(1, max(2))?.0,
                    'h' => {
                        p.hour = c.digits(1, max(2))?.0;
                        p.hour12 = true;
                    }
                    'H' => p.hour = c.digits(1, max(2))?.0,
                    'k' => p.hour = c.digits(1, max(2))?.0 % 24,
                    'm' => p.minute = c.digits(1, max(2))?.0,
                    's' => p.second = c.digits(1, max(2))?.0,
                    'S' => p.nanos = parse_fraction(&mut c, max(9))?,
                    'Z' if n <= 2 => p.offset = Some(parse_offset_at(&mut c)?),
                    'Z' | 'z' => {
                        let start = c.i;
                        while c.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b"/_+-:".contains(&b)) {
                            c.i += 1;
                        }
                        let name = std::str::from_utf8(c.b.get(start..c.i)?).ok()?;
                        p.zone = Some(Zone::parse(name).ok()?);
                    }
                    'G' => {
                        let rest = c.b.get(c.i..c.i + 2)?;
                        if rest.eq_ignore_ascii_case(b"AD") || rest.eq_ignore_ascii_case(b"BC") {
                            c.i += 2;
                        } else {
                            return None;
                        }
                    }
                    _ => return None,
                }
            }
        }
    }
    if !c.done() {
        return None;
    }
    p.epoch_millis()
}

// ---------------------------------------------------------------------------------------------
// Simple fixed-signature functions
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SimpleKind {
    FromIso8601Timestamp,
    FromIso8601Date,
    ToIso8601,
    FromUnixtime,
    ToUnixtime,
    Date,
    LastDayOfMonth,
    DateFormat,
    FormatDatetime,
    DateParse,
    ParseDatetime,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Simple {
    kind: SimpleKind,
    signature: Signature,
}

impl Simple {
    fn new(kind: SimpleKind) -> Self {
        Simple { kind, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

fn string_column(rows: usize, mut f: impl FnMut(usize) -> Result<Option<String>>) -> Result<ArrayRef> {
    let mut b = StringBuilder::with_capacity(rows, rows * 24);
    for i in 0..rows {
        match f(i)? {
            Some(s) => b.append_value(s),
            None => b.append_null(),
        }
    }
    Ok(Arc::new(b.finish()))
}

fn ms_column(rows: usize, tz: Option<&str>, mut f: impl FnMut(usize) -> Result<Option<i64>>) -> Result<ArrayRef> {
    let mut b = Int64Builder::with_capacity(rows);
    for i in 0..rows {
        b.append_option(f(i)?);
    }
    let arr: PrimitiveArray<TimestampMillisecondType> = b.finish().reinterpret_cast();
    Ok(Arc::new(arr.with_timezone_opt(tz)))
}

impl ScalarUDFImpl for Simple {
    fn name(&self) -> &str {
        match self.kind {
            SimpleKind::FromIso8601Timestamp => "from_iso8601_timestamp",
            SimpleKind::FromIso8601Date => "from_iso8601_date",
            SimpleKind::ToIso8601 => "to_iso8601",
            SimpleKind::FromUnixtime => "from_unixtime",
            SimpleKind::ToUnixtime => "to_unixtime",
            SimpleKind::Date => "date",
            SimpleKind::LastDayOfMonth => "last_day_of_month",
            SimpleKind::DateFormat => "date_format",
            SimpleKind::FormatDatetime => "format_datetime",
            SimpleKind::DateParse => "date_parse",
            SimpleKind::ParseDatetime => "parse_datetime",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        match self.kind {
            SimpleKind::FromIso8601Timestamp | SimpleKind::FromIso8601Date => {
                check_arity(name, t.len(), 1, 1)?;
                Ok(vec![string_coercion(&t[0], name)?])
            }
            SimpleKind::ToIso8601 | SimpleKind::ToUnixtime | SimpleKind::LastDayOfMonth => {
                check_arity(name, t.len(), 1, 1)?;
                Ok(vec![temporal_coercion(&t[0], name)?])
            }
            SimpleKind::FromUnixtime => {
                check_arity(name, t.len(), 1, 2)?;
                let mut v = vec![match &t[0] {
                    d if d.is_numeric() || d.is_null() || is_string(d) => DataType::Float64,
                    other => return plan_err!("from_unixtime: expected a number, got {other}"),
                }];
                if let Some(z) = t.get(1) {
                    v.push(string_coercion(z, name)?);
                }
                Ok(v)
            }
            SimpleKind::Date => {
                check_arity(name, t.len(), 1, 1)?;
                Ok(vec![match &t[0] {
                    d if is_temporal(d) || is_string(d) => d.clone(),
                    DataType::Null => DataType::Utf8,
                    other => return plan_err!("date: cannot convert {other} to a date"),
                }])
            }
            SimpleKind::DateFormat | SimpleKind::FormatDatetime => {
                check_arity(name, t.len(), 2, 2)?;
                Ok(vec![temporal_coercion(&t[0], name)?, string_coercion(&t[1], name)?])
            }
            SimpleKind::DateParse | SimpleKind::ParseDatetime => {
                check_arity(name, t.len(), 2, 2)?;
                Ok(vec![string_coercion(&t[0], name)?, string_coercion(&t[1], name)?])
            }
        }
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            SimpleKind::FromIso8601Timestamp | SimpleKind::FromUnixtime | SimpleKind::ParseDatetime => utc_ms(),
            SimpleKind::DateParse => DataType::Timestamp(TimeUnit::Millisecond, None),
            SimpleKind::FromIso8601Date | SimpleKind::Date | SimpleKind::LastDayOfMonth => DataType::Date32,
            SimpleKind::ToIso8601 | SimpleKind::DateFormat | SimpleKind::FormatDatetime => DataType::Utf8,
            SimpleKind::ToUnixtime => DataType::Float64,
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let kind = self.kind;
        invoke(&args, |a, rows| match kind {
            SimpleKind::FromIso8601Timestamp => {
                let s = Strs::new(&a[0], "from_iso8601_timestamp")?;
                ms_column(rows, Some("UTC"), |i| {
                    s.get(i)
                        .map(|v| {
                            parse_iso8601(v, true)
                                .and_then(|p| p.epoch_millis())
                                .ok_or_else(|| exec_datafusion_err!("Invalid format: \"{v}\""))
                        })
                        .transpose()
                })
            }
            SimpleKind::FromIso8601Date => {
                let s = Strs::new(&a[0], "from_iso8601_date")?;
                let mut b = Date32Array::builder(rows);
                for i in 0..rows {
                    match s.get(i) {
                        Some(v) => {
                            let p = parse_iso8601(v, false)
                                .ok_or_else(|| exec_datafusion_err!("Invalid format: \"{v}\""))?;
                            b.append_value(days_to_i32(p.days)?);
                        }
                        None => b.append_null(),
                    }
                }
                Ok(Arc::new(b.finish()) as ArrayRef)
            }
            SimpleKind::ToIso8601 => {
                let codec = Codec::new(a[0].data_type())?;
                let raw = codec.raw(&a[0])?;
                string_column(rows, |i| raw.is_valid(i).then(|| to_iso8601(&codec, raw.value(i))).transpose())
            }
            SimpleKind::FromUnixtime => {
                let n = a[0].as_primitive::<Float64Type>();
                let zones = a.get(1).map(|z| Strs::new(z, "from_unixtime")).transpose()?;
                ms_column(rows, Some("UTC"), |i| {
                    if !n.is_valid(i) {
                        return Ok(None);
                    }
                    if let Some(z) = &zones {
                        match z.get(i) {
                            None => return Ok(None),
                            Some(name) => {
                                Zone::parse(name)?;
                            }
                        }
                    }
                    let ms = (n.value(i) * 1000.0 + 0.5).floor();
                    if !ms.is_finite() || ms.abs() > 9.0e15 {
                        return exec_err!("from_unixtime: value out of range: {}", n.value(i));
                    }
                    Ok(Some(ms as i64))
                })
            }
            SimpleKind::ToUnixtime => {
                let codec = Codec::new(a[0].data_type())?;
                let raw = codec.raw(&a[0])?;
                let ps = codec.per_sec as f64;
                let out: Float64Array = raw.unary(|v| v as f64 / ps);
                Ok(Arc::new(out) as ArrayRef)
            }
            SimpleKind::Date => to_date(&a[0], rows),
            SimpleKind::LastDayOfMonth => {
                let codec = Codec::new(a[0].data_type())?;
                let raw = codec.raw(&a[0])?;
                let out: Date32Array = raw.try_unary(|v| {
                    let w = Wall::new(codec.to_wall(v)?, codec.per_sec);
                    days_to_i32(days_from_civil(w.year, w.month, days_in_month(w.year, w.month)))
                })?;
                Ok(Arc::new(out) as ArrayRef)
            }
            SimpleKind::DateFormat => {
                let codec = Codec::new(a[0].data_type())?;
                let raw = codec.raw(&a[0])?;
                let f = Strs::new(&a[1], "date_format")?;
                string_column(rows, |i| match (raw.is_valid(i), f.get(i)) {
                    (true, Some(fmt)) => mysql_format(&codec, raw.value(i), fmt).map(Some),
                    _ => Ok(None),
                })
            }
            SimpleKind::FormatDatetime => {
                let codec = Codec::new(a[0].data_type())?;
                let raw = codec.raw(&a[0])?;
                let f = Strs::new(&a[1], "format_datetime")?;
                let mut cache: Option<(&str, Vec<JodaToken>)> = None;
                string_column(rows, |i| match (raw.is_valid(i), f.get(i)) {
                    (true, Some(fmt)) => {
                        if cache.as_ref().is_none_or(|(s, _)| *s != fmt) {
                            cache = Some((fmt, parse_joda(fmt)?));
                        }
                        let tokens = cache.as_ref().map(|(_, t)| t.as_slice()).unwrap_or(&[]);
                        joda_format(&codec, raw.value(i), tokens).map(Some)
                    }
                    _ => Ok(None),
                })
            }
            SimpleKind::DateParse => {
                let s = Strs::new(&a[0], "date_parse")?;
                let f = Strs::new(&a[1], "date_parse")?;
                ms_column(rows, None, |i| match (s.get(i), f.get(i)) {
                    (Some(v), Some(fmt)) => mysql_parse(v, fmt)
                        .map(Some)
                        .ok_or_else(|| exec_datafusion_err!("Invalid format: \"{v}\" for format \"{fmt}\"")),
                    _ => Ok(None),
                })
            }
            SimpleKind::ParseDatetime => {
                let s = Strs::new(&a[0], "parse_datetime")?;
                let f = Strs::new(&a[1], "parse_datetime")?;
                let mut cache: Option<(&str, Vec<JodaToken>)> = None;
                ms_column(rows, Some("UTC"), |i| match (s.get(i), f.get(i)) {
                    (Some(v), Some(fmt)) => {
                        if cache.as_ref().is_none_or(|(s, _)| *s != fmt) {
                            cache = Some((fmt, parse_joda(fmt)?));
                        }
                        let tokens = cache.as_ref().map(|(_, t)| t.as_slice()).unwrap_or(&[]);
                        joda_parse(v, tokens)
                            .map(Some)
                            .ok_or_else(|| exec_datafusion_err!("Invalid format: \"{v}\" for pattern \"{fmt}\""))
                    }
                    _ => Ok(None),
                })
            }
        })
    }
}

fn days_to_i32(days: i64) -> Result<i32> {
    i32::try_from(days).map_err(|_| exec_datafusion_err!("date out of range"))
}

/// `date(x)`: the (local) calendar date of a timestamp, or a date string.
fn to_date(arr: &ArrayRef, rows: usize) -> Result<ArrayRef> {
    if is_string(arr.data_type()) || arr.data_type().is_null() {
        let s = Strs::new(arr, "date")?;
        let mut b = Date32Array::builder(rows);
        for i in 0..rows {
            match s.get(i) {
                Some(v) => {
                    let p = parse_iso8601(v, true)
                        .ok_or_else(|| exec_datafusion_err!("Value cannot be cast to date: {v}"))?;
                    b.append_value(days_to_i32(p.days)?);
                }
                None => b.append_null(),
            }
        }
        return Ok(Arc::new(b.finish()));
    }
    let codec = Codec::new(arr.data_type())?;
    let raw = codec.raw(arr)?;
    let out: Date32Array = raw.try_unary(|v| {
        let w = Wall::new(codec.to_wall(v)?, codec.per_sec);
        days_to_i32(w.days)
    })?;
    Ok(Arc::new(out))
}
