//! The starter set of security alarms: the CloudTrail monitoring controls of the CIS AWS Foundations
//! Benchmark (the metric filter + alarm pairs AWS Security Hub checks as CloudWatch.1–14), each as an
//! EventBridge event pattern over CloudTrail events in EventBridge's envelope, with the count over a
//! window that fires it. CIS's filters are CloudWatch Logs filter expressions on the bare record
//! (`$.eventName = …`); here the same conditions address `detail`, the record in the envelope.
//!
//! A CIS filter's `!=` and `NOT EXISTS` also hold when the field is absent, which EventBridge's
//! `anything-but` does not, so those conditions are written as `$or` of `anything-but` and
//! `exists: false`.

/// One alarm of the starter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityAlarm {
    /// The rule's name (EventBridge rule name syntax).
    pub name: &'static str,
    /// The CIS control and Security Hub check it implements.
    pub control: &'static str,
    pub description: &'static str,
    /// The event pattern, as PutRule takes it.
    pub pattern: &'static str,
    /// Matches within `window_seconds` that put the alarm in ALARM (CIS: at least one).
    pub threshold: u32,
    pub window_seconds: u32,
}

/// The starter set, in CIS order.
pub const SECURITY_ALARMS: &[SecurityAlarm] = &[
    SecurityAlarm {
        name: "cis-unauthorized-api-calls",
        control: "CIS 4.1 / CloudWatch.2",
        description: "API calls refused for lack of permission",
        pattern: r#"{"detail":{"errorCode":[{"wildcard":"*UnauthorizedOperation"},{"prefix":"AccessDenied"}]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-console-sign-in-without-mfa",
        control: "CIS 4.2 / CloudWatch.3",
        description: "Successful console sign-in by an IAM user without MFA",
        pattern: r#"{"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"eventName":["ConsoleLogin"],"userIdentity":{"type":["IAMUser"]},"responseElements":{"ConsoleLogin":["Success"]},"$or":[{"additionalEventData":{"MFAUsed":[{"anything-but":"Yes"}]}},{"additionalEventData":{"MFAUsed":[{"exists":false}]}}]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-root-account-usage",
        control: "CIS 4.3 / CloudWatch.1",
        description: "The root user acted, not on behalf of a service",
        pattern: r#"{"detail":{"userIdentity":{"type":["Root"],"invokedBy":[{"exists":false}]},"eventType":[{"anything-but":"AwsServiceEvent"}]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-iam-policy-changes",
        control: "CIS 4.4 / CloudWatch.4",
        description: "IAM policies created, changed, attached or detached",
        pattern: r#"{"detail":{"eventSource":["iam.amazonaws.com"],"eventName":["DeleteGroupPolicy","DeleteRolePolicy","DeleteUserPolicy","PutGroupPolicy","PutRolePolicy","PutUserPolicy","CreatePolicy","DeletePolicy","CreatePolicyVersion","DeletePolicyVersion","AttachRolePolicy","DetachRolePolicy","AttachUserPolicy","DetachUserPolicy","AttachGroupPolicy","DetachGroupPolicy"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-cloudtrail-configuration-changes",
        control: "CIS 4.5 / CloudWatch.5",
        description: "Trails created, changed, deleted, started or stopped",
        pattern: r#"{"detail":{"eventSource":["cloudtrail.amazonaws.com"],"eventName":["CreateTrail","UpdateTrail","DeleteTrail","StartLogging","StopLogging"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-console-authentication-failures",
        control: "CIS 4.6 / CloudWatch.6",
        description: "Failed console sign-ins",
        pattern: r#"{"detail":{"eventName":["ConsoleLogin"],"errorMessage":["Failed authentication"]}}"#,
        threshold: 3,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-kms-key-disabled-or-deleted",
        control: "CIS 4.7 / CloudWatch.7",
        description: "Customer-managed KMS keys disabled or scheduled for deletion",
        pattern: r#"{"detail":{"eventSource":["kms.amazonaws.com"],"eventName":["DisableKey","ScheduleKeyDeletion"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-s3-bucket-policy-changes",
        control: "CIS 4.8 / CloudWatch.8",
        description: "S3 bucket policies, ACLs, CORS, lifecycle or replication changed",
        pattern: r#"{"detail":{"eventSource":["s3.amazonaws.com"],"eventName":["PutBucketAcl","PutBucketPolicy","PutBucketCors","PutBucketLifecycle","PutBucketReplication","DeleteBucketPolicy","DeleteBucketCors","DeleteBucketLifecycle","DeleteBucketReplication"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-aws-config-changes",
        control: "CIS 4.9 / CloudWatch.9",
        description: "AWS Config recording or delivery stopped or changed",
        pattern: r#"{"detail":{"eventSource":["config.amazonaws.com"],"eventName":["StopConfigurationRecorder","DeleteDeliveryChannel","PutDeliveryChannel","PutConfigurationRecorder"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-security-group-changes",
        control: "CIS 4.10 / CloudWatch.10",
        description: "Security groups created, deleted or their rules changed",
        pattern: r#"{"detail":{"eventName":["AuthorizeSecurityGroupIngress","AuthorizeSecurityGroupEgress","RevokeSecurityGroupIngress","RevokeSecurityGroupEgress","CreateSecurityGroup","DeleteSecurityGroup"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-network-acl-changes",
        control: "CIS 4.11 / CloudWatch.11",
        description: "Network ACLs or their entries changed",
        pattern: r#"{"detail":{"eventName":["CreateNetworkAcl","CreateNetworkAclEntry","DeleteNetworkAcl","DeleteNetworkAclEntry","ReplaceNetworkAclEntry","ReplaceNetworkAclAssociation"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-network-gateway-changes",
        control: "CIS 4.12 / CloudWatch.12",
        description: "Customer or internet gateways created, deleted, attached or detached",
        pattern: r#"{"detail":{"eventName":["CreateCustomerGateway","DeleteCustomerGateway","AttachInternetGateway","CreateInternetGateway","DeleteInternetGateway","DetachInternetGateway"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-route-table-changes",
        control: "CIS 4.13 / CloudWatch.13",
        description: "Route tables or routes changed",
        pattern: r#"{"detail":{"eventSource":["ec2.amazonaws.com"],"eventName":["CreateRoute","CreateRouteTable","ReplaceRoute","ReplaceRouteTableAssociation","DeleteRouteTable","DeleteRoute","DisassociateRouteTable"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-vpc-changes",
        control: "CIS 4.14 / CloudWatch.14",
        description: "VPCs or peering connections created, changed or deleted",
        pattern: r#"{"detail":{"eventName":["CreateVpc","DeleteVpc","ModifyVpcAttribute","AcceptVpcPeeringConnection","CreateVpcPeeringConnection","DeleteVpcPeeringConnection","RejectVpcPeeringConnection","AttachClassicLinkVpc","DetachClassicLinkVpc","DisableVpcClassicLink","EnableVpcClassicLink"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
    SecurityAlarm {
        name: "cis-organizations-changes",
        control: "CIS 4.15",
        description: "AWS Organizations changed (accounts, policies, units, handshakes)",
        pattern: r#"{"detail":{"eventSource":["organizations.amazonaws.com"],"eventName":["AcceptHandshake","AttachPolicy","CreateAccount","CreateOrganizationalUnit","CreatePolicy","DeclineHandshake","DeleteOrganization","DeleteOrganizationalUnit","DeletePolicy","DetachPolicy","DisablePolicyType","EnablePolicyType","InviteAccountToOrganization","LeaveOrganization","MoveAccount","RemoveAccountFromOrganization","UpdatePolicy","UpdateOrganizationalUnit"]}}"#,
        threshold: 1,
        window_seconds: 300,
    },
];

#[cfg(test)]
mod tests;
