//! Tests of `parse`: event-ruler's messages, in the order its streaming parser meets them, and
//! the shape of what valid patterns compile to.
use super::super::EventPattern;

fn error(pattern: &str) -> String {
    match EventPattern::parse(pattern) {
        Ok(parsed) => panic!("{pattern} was accepted: {parsed:?}"),
        Err(e) => e.message().to_owned(),
    }
}

#[test]
fn structural_errors() {
    for (pattern, message) in [
        ("", "Filter is not an object"),
        ("[1]", "Filter is not an object"),
        ("{}", "Empty objects are not allowed"),
        (r#"{"a": {}}"#, "Empty objects are not allowed"),
        (r#"{"a": []}"#, "Empty arrays are not allowed"),
        (r#"{"a": "x"}"#, r#""a" must be an object or an array"#),
        (r#"{"a": {"b": 1}}"#, r#""b" must be an object or an array"#),
        (r#"{"a": [[1]]}"#, "Match value must be String, number, true, false, or null"),
        (r#"{"a": [{}]}"#, "Match expression name not found"),
        (r#"{"a": [{"regex": "x"}]}"#, "Unrecognized match type regex"),
    ] {
        assert_eq!(error(pattern), message, "{pattern}");
    }
}

#[test]
fn operator_errors() {
    for (pattern, message) in [
        (r#"{"a": [{"prefix": 1}]}"#, "prefix match pattern must be a string"),
        (r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#, "Only one key allowed in match expression"),
        (r#"{"a": [{"prefix": {}}]}"#, "Prefix expression name not found"),
        (r#"{"a": [{"prefix": {"wildcard": "x"}}]}"#, "Unsupported prefix pattern: wildcard"),
        (r#"{"a": [{"prefix": {"equals-ignore-case": 1}}]}"#, "equals-ignore-case match pattern must be a string"),
        (r#"{"a": [{"suffix": []}]}"#, "suffix match pattern must be a string"),
        (r#"{"a": [{"suffix": {"prefix": "x"}}]}"#, "Unsupported suffix pattern: prefix"),
        (r#"{"a": [{"exactly": 1}]}"#, "exact match pattern must be a string"),
        (r#"{"a": [{"equals-ignore-case": ["x"]}]}"#, "equals-ignore-case match pattern must be a string"),
        (r#"{"a": [{"exists": "yes"}]}"#, "exists match pattern must be either true or false."),
        (r#"{"a": [{"exists": false, "prefix": "x"}]}"#, "Only one key allowed in match expression"),
        (r#"{"a": [{"cidr": 10}]}"#, "prefix match pattern must be a string"),
        (r#"{"a": [{"cidr": "10.0.0.0/33"}]}"#, "IPv4 mask bits must be < 32"),
        (r#"{"a": [{"cidr": "10.0.0.0"}]}"#, "Malformed CIDR, one '/' required"),
        (r#"{"a": [{"wildcard": 1}]}"#, "wildcard match pattern must be a string"),
        (r#"{"a": [{"wildcard": "a**"}]}"#, "Consecutive wildcard characters at pos 2"),
        (r#"{"a": [{"wildcard": "a\\b"}]}"#, "Invalid escape character at pos 2"),
    ] {
        assert_eq!(error(pattern), message, "{pattern}");
    }
}

#[test]
fn numeric_errors() {
    for (pattern, message) in [
        (r#"{"a": [{"numeric": 5}]}"#, "Value of numeric must be an array."),
        (r#"{"a": [{"numeric": []}]}"#, "Invalid member in numeric match: ]"),
        (r#"{"a": [{"numeric": [5]}]}"#, "Invalid member in numeric match: 5"),
        (r#"{"a": [{"numeric": ["~", 5]}]}"#, "Unrecognized numeric range operator: ~"),
        (r#"{"a": [{"numeric": ["="]}]}"#, "Value of equals must be numeric"),
        (r#"{"a": [{"numeric": ["=", "5"]}]}"#, "Value of equals must be numeric"),
        (r#"{"a": [{"numeric": ["=", 5, 6]}]}"#, "Too many elements in numeric expression"),
        (r#"{"a": [{"numeric": ["<", 5, ">", 1]}]}"#, "Too many elements in numeric expression"),
        (r#"{"a": [{"numeric": [">", 5, 6]}]}"#, "Bad value in numeric range: 6"),
        (r#"{"a": [{"numeric": [">", 5, ">", 6]}]}"#, "Bad numeric range operator: >"),
        (r#"{"a": [{"numeric": [">", 1, "<"]}]}"#, "Value of < must be numeric"),
        (r#"{"a": [{"numeric": [">", 1, "<", 5, 6]}]}"#, "Too many terms in numeric range expression"),
        (r#"{"a": [{"numeric": [">=", 5, "<=", 5]}]}"#, "Bottom must be less than top"),
        (r#"{"a": [{"numeric": [">", 5, "<", 1]}]}"#, "Bottom must be less than top"),
        (r#"{"a": [{"numeric": ["=", 0.1234567]}]}"#, "Only values upto 6 decimals are supported"),
        (r#"{"a": [{"numeric": ["<", 6e11]}]}"#, "Value must be between -5.0E11 and 5.0E11, inclusive"),
        (r#"{"a": [{"numeric": [">", 1e20]}]}"#, "Overflow"),
        (r#"{"a": [{"numeric": [">", 0], "x": 1}]}"#, "Too many elements in numeric expression"),
    ] {
        assert_eq!(error(pattern), message, "{pattern}");
    }
}

#[test]
fn anything_but_errors() {
    for (pattern, message) in [
        (r#"{"a": [{"anything-but": null}]}"#, "Value of anything-but must be an array or single string/number value."),
        (r#"{"a": [{"anything-but": {}}]}"#, "Anything-But expression name not found"),
        (r#"{"a": [{"anything-but": {"numeric": [">", 1]}}]}"#, "Unsupported anything-but pattern: numeric"),
        (
            r#"{"a": [{"anything-but": []}]}"#,
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        ),
        (
            r#"{"a": [{"anything-but": ["a", 1]}]}"#,
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        ),
        (r#"{"a": [{"anything-but": [null]}]}"#, "Inside anything but list, start|null|boolean is not supported."),
        (r#"{"a": [{"anything-but": [0.1234567]}]}"#, "Only values upto 6 decimals are supported"),
        (r#"{"a": [{"anything-but": 6e11}]}"#, "Value must be between -5.0E11 and 5.0E11, inclusive"),
        (r#"{"a": [{"anything-but": {"prefix": ""}}]}"#, "Null prefix/suffix not allowed"),
        (r#"{"a": [{"anything-but": {"suffix": ["x", ""]}}]}"#, "Null prefix/suffix not allowed"),
        (r#"{"a": [{"anything-but": {"prefix": 1}}]}"#, "prefix/suffix match pattern must be a string"),
        (
            r#"{"a": [{"anything-but": {"prefix": null}}]}"#,
            "Value of anything-but must be an array or single string/number value.",
        ),
        (
            r#"{"a": [{"anything-but": {"equals-ignore-case": [1]}}]}"#,
            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
        ),
        (r#"{"a": [{"anything-but": {"wildcard": ["x**", 1]}}]}"#, "wildcard match pattern must be a string"),
        (r#"{"a": [{"anything-but": {"wildcard": ["ok", "x**"]}}]}"#, "Consecutive wildcard characters at pos 2"),
        (r#"{"a": [{"anything-but": {"prefix": "x", "suffix": "y"}}]}"#, "Too many elements in numeric expression"),
        (r#"{"a": [{"anything-but": "x", "prefix": "y"}]}"#, "Too many elements in numeric expression"),
    ] {
        assert_eq!(error(pattern), message, "{pattern}");
    }
}

#[test]
fn or_errors_and_the_older_compilers_second_opinion() {
    for (pattern, message) in [
        // The $or-aware compiler refuses these; the older one (no $or) then has its say.
        (r#"{"$or": [{"a": [1]}]}"#, "Unrecognized match type a"),
        (r#"{"$or": []}"#, "Empty arrays are not allowed"),
        (r#"{"$or": "x"}"#, r#""$or" must be an object or an array"#),
        (r#"{"$or": [[2], {"a": [1]}]}"#, "Match value must be String, number, true, false, or null"),
        (r#"{"x": {"$or": [{"prefix": [1]}, {"b": [2]}]}}"#, "prefix match pattern must be a string"),
        // Errors that are not parse errors are not retried.
        (r#"{"$or": [{"a": [{"cidr": "x/1"}]}, {"b": [1]}]}"#, "Nonstandard IP address: x"),
    ] {
        assert_eq!(error(pattern), message, "{pattern}");
    }
}

#[test]
fn or_words_as_field_names_when_the_older_compiler_accepts_them() {
    // event-ruler's normalRulesWithOrWording: "$or" is then an ordinary field.
    for pattern in [
        r#"{"$or": [{"cidr": "10.0.0.0/24"}]}"#,
        r#"{"source": ["aws.cloudwatch"], "$or": {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"]}}"#,
        r#"{"detail": {"$or": [{"numeric": [">", 0, "<=", 5]}, {"numeric": [">", 10]}]}}"#,
    ] {
        let parsed = EventPattern::parse(pattern).expect(pattern);
        assert_eq!(parsed.branch_count(), 1, "{pattern}");
    }
    let parsed = EventPattern::parse(r#"{"$or": [{"cidr": "10.0.0.0/24"}]}"#).expect("valid");
    assert!(parsed.matches(&serde_json::json!({"$or": "10.0.0.7"})));
}

#[test]
fn or_forks_branches_and_later_fields_join_all_of_them() {
    let parsed = EventPattern::parse(
        r#"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]},
            {"metricType": ["MetricType"], "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]},
            {"scope": ["Service"]}], "after": ["x"]}"#,
    )
    .expect("valid");
    assert_eq!(parsed.branch_count(), 4);
    let paths: Vec<Vec<&str>> =
        parsed.branches.iter().map(|b| b.conditions.iter().map(|c| &*c.path).collect()).collect();
    assert_eq!(
        paths,
        vec![
            vec!["after", "metricName", "source"],
            vec!["after", "metricId", "metricType", "source"],
            vec!["after", "metricType", "source", "spaceId"],
            vec!["after", "scope", "source"],
        ]
    );
    // Reserved words cannot be fields inside $or, and the older compiler reads `numeric` as
    // the operator it is.
    assert_eq!(error(r#"{"$or": [{"numeric": [1]}, {"b": [2]}], "c": [3]}"#), "Invalid member in numeric match: 1");
}

#[test]
fn fields_written_twice_keep_the_last_value_and_dotted_names_are_paths() {
    let parsed = EventPattern::parse(r#"{"a": {"b": ["x"]}, "a.b": ["y"], "": {"c": [1]}}"#).expect("valid");
    assert_eq!(parsed.branch_count(), 1);
    let conditions = &parsed.branches[0].conditions;
    assert_eq!(conditions.len(), 2);
    // A first step named "" takes no separator in event-ruler's rule paths.
    assert_eq!(&*conditions[0].path, "a.b");
    assert_eq!(&*conditions[1].path, "c");
    assert!(parsed.matches(&serde_json::json!({"a": {"b": "y"}, "c": 1})));
    assert!(!parsed.matches(&serde_json::json!({"a": {"b": "x"}, "c": 1})));
}

#[test]
fn a_repeated_key_in_a_match_expression_is_a_second_key() {
    assert_eq!(error(r#"{"a": [{"prefix": "x", "prefix": "y"}]}"#), "Only one key allowed in match expression");
}

#[test]
fn or_combinations_are_capped() {
    // Ten $or of two alternatives each: 1024 branches.
    let fields: Vec<String> = (0..10).map(|i| format!(r#""f{i}": {{"$or": [{{"a": [1]}}, {{"b": [2]}}]}}"#)).collect();
    let too_many = format!("{{{}}}", fields.join(", "));
    assert_eq!(error(&too_many), "Event pattern expands to more than 1000 combinations of $or alternatives");
    let nine = format!("{{{}}}", fields[..9].join(", "));
    assert_eq!(EventPattern::parse(&nine).expect("512 branches").branch_count(), 512);
}
