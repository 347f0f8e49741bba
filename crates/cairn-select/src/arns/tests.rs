//! Tests of `arns`.
use super::*;

/// One row per value: the function under test, the input and the expected answer.
fn check<T: PartialEq + std::fmt::Debug>(f: impl Fn(&str) -> T, rows: &[(&str, T)]) {
    for (input, expected) in rows {
        assert_eq!(&f(input), expected, "input {input:?}");
    }
}

#[test]
fn basic_value_scopes() {
    use Scope::{All, Specific};
    check(
        |v| basic_value_scope(BasicType::S3Object, v),
        &[
            ("arn:aws:s3", Some(All)),
            ("arn:aws:s3:::", Some(All)),
            ("arn:aws-us-gov:s3", Some(All)),
            ("arn:aws:s3:::bkt/", Some(Specific)),
            ("arn:aws:s3:::bkt/a/b", Some(Specific)),
            ("arn:aws:s3:::bkt", None),
            ("arn:aws:s3::", None),
            ("arn:aws:s3:::b/", None),
        ],
    );
    check(
        |v| basic_value_scope(BasicType::LambdaFunction, v),
        &[
            ("arn:aws:lambda", Some(All)),
            ("arn:aws:lambda:us-east-1:111111111111:function:f", Some(Specific)),
            ("arn:aws:lambda:us-east-1:111111111111:function:f:$LATEST", Some(Specific)),
            ("arn:aws:lambda:us-east-1:111111111111:function:f:a:b", None),
            ("arn:aws:lambda:us-east-1:111111111111:layer:f", None),
        ],
    );
    check(
        |v| basic_value_scope(BasicType::DynamoDbTable, v),
        &[
            ("arn:aws:dynamodb", Some(All)),
            ("arn:aws:dynamodb:us-east-1:111111111111:table/abc", Some(Specific)),
            ("arn:aws:dynamodb:us-east-1:111111111111:table/a b", None),
        ],
    );
}

#[test]
fn name_shapes() {
    check(
        is_resource_type_name,
        &[
            ("AWS::S3::Object", true),
            ("AWS::S3ObjectLambda::AccessPoint", true),
            ("AWS::S3", false),
            ("aws::s3::object", false),
            ("AWS::S3::Object::X", false),
            ("AWS::::Object", false),
        ],
    );
    check(
        is_event_source_name,
        &[
            ("ec2.amazonaws.com", true),
            ("s3-outposts.amazonaws.com", true),
            (".amazonaws.com", false),
            ("EC2.amazonaws.com", false),
            ("ec2", false),
        ],
    );
}
