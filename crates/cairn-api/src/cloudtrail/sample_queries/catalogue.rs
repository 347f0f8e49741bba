//! The sample queries SearchSampleQueries searches: CloudTrail Lake SQL for common audit, security and
//! operations questions, written for cairn's Lake. `<EDS_ID>` stands where the event data store's ID
//! goes; each statement is otherwise ready to run (standard SQL plus the Trino functions the Lake has).

/// One sample query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SampleQuery {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) sql: &'static str,
}

/// What a sample query's SQL names instead of an event data store ID.
#[cfg(test)]
pub(crate) const STORE_PLACEHOLDER: &str = "<EDS_ID>";

/// Every sample query, in no particular order (ranking orders them).
pub(crate) const CATALOGUE: &[SampleQuery] = &[
    SampleQuery {
        name: "Console login activity",
        description: "Every console login (AWS Management Console sign-in) of the past week: who signed in, \
                      from which IP address, whether the login succeeded and whether MFA was used.",
        sql: "SELECT eventtime, useridentity.type AS identity_type, useridentity.arn AS principal_arn, \
              sourceipaddress, element_at(responseelements, 'ConsoleLogin') AS login_result, \
              element_at(additionaleventdata, 'MFAUsed') AS mfa_used \
              FROM <EDS_ID> \
              WHERE eventname = 'ConsoleLogin' AND eventtime > date_add('day', -7, now()) \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Failed console logins",
        description: "Console sign-in attempts that failed, grouped by principal and source IP address, to spot \
                      password guessing against AWS Management Console users.",
        sql: "SELECT useridentity.arn AS principal_arn, sourceipaddress, count(*) AS failures, \
              max(eventtime) AS last_failure \
              FROM <EDS_ID> \
              WHERE eventname = 'ConsoleLogin' AND element_at(responseelements, 'ConsoleLogin') = 'Failure' \
              GROUP BY useridentity.arn, sourceipaddress \
              ORDER BY failures DESC",
    },
    SampleQuery {
        name: "Console sign-ins without MFA",
        description: "Successful console sign-ins where multi-factor authentication (MFA) was not used; \
                      candidates for enforcing MFA.",
        sql: "SELECT eventtime, useridentity.arn AS principal_arn, sourceipaddress, useragent \
              FROM <EDS_ID> \
              WHERE eventname = 'ConsoleLogin' \
              AND element_at(responseelements, 'ConsoleLogin') = 'Success' \
              AND element_at(additionaleventdata, 'MFAUsed') = 'No' \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Root user activity",
        description: "API calls made by the root user of an account, which should be rare: the event, \
                      service, source IP address and any error.",
        sql: "SELECT eventtime, eventsource, eventname, awsregion, sourceipaddress, errorcode \
              FROM <EDS_ID> \
              WHERE useridentity.type = 'Root' \
              ORDER BY eventtime DESC \
              LIMIT 500",
    },
    SampleQuery {
        name: "Access denied errors by principal",
        description: "Requests refused with AccessDenied or UnauthorizedOperation, counted per principal and \
                      API call; shows missing permissions or someone probing for access.",
        sql: "SELECT useridentity.arn AS principal_arn, eventsource, eventname, count(*) AS denied \
              FROM <EDS_ID> \
              WHERE errorcode IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', \
              'Client.UnauthorizedOperation') \
              GROUP BY useridentity.arn, eventsource, eventname \
              ORDER BY denied DESC \
              LIMIT 100",
    },
    SampleQuery {
        name: "Top error codes",
        description: "The most frequent error codes returned to API callers, with the number of failed \
                      requests and distinct callers for each error.",
        sql: "SELECT errorcode, count(*) AS failed_requests, approx_distinct(useridentity.arn) AS callers \
              FROM <EDS_ID> \
              WHERE errorcode IS NOT NULL \
              GROUP BY errorcode \
              ORDER BY failed_requests DESC \
              LIMIT 25",
    },
    SampleQuery {
        name: "Most frequent API calls",
        description: "The API calls made most often, by service and event name: a quick overview of what \
                      happens in the account.",
        sql: "SELECT eventsource, eventname, count(*) AS calls \
              FROM <EDS_ID> \
              GROUP BY eventsource, eventname \
              ORDER BY calls DESC \
              LIMIT 50",
    },
    SampleQuery {
        name: "Event volume per hour",
        description: "Number of events per hour over the last day, split into read-only and write calls; a \
                      timeline that shows spikes of activity.",
        sql: "SELECT date_trunc('hour', eventtime) AS hour, count_if(readonly) AS read_calls, \
              count_if(NOT readonly) AS write_calls, count(*) AS total_events \
              FROM <EDS_ID> \
              WHERE eventtime > date_add('day', -1, now()) \
              GROUP BY date_trunc('hour', eventtime) \
              ORDER BY hour",
    },
    SampleQuery {
        name: "Activity by region",
        description: "How many events each AWS Region recorded, with the number of distinct principals \
                      active in it; unexpected regions stand out.",
        sql: "SELECT awsregion, count(*) AS events, approx_distinct(useridentity.arn) AS principals \
              FROM <EDS_ID> \
              GROUP BY awsregion \
              ORDER BY events DESC",
    },
    SampleQuery {
        name: "Activity outside approved regions",
        description: "Write activity in regions other than the approved ones (edit the region list); finds \
                      resources created where nobody expects them.",
        sql: "SELECT awsregion, eventsource, eventname, useridentity.arn AS principal_arn, count(*) AS calls \
              FROM <EDS_ID> \
              WHERE awsregion NOT IN ('us-east-1', 'us-west-2') AND readonly = false \
              GROUP BY awsregion, eventsource, eventname, useridentity.arn \
              ORDER BY calls DESC",
    },
    SampleQuery {
        name: "Top source IP addresses",
        description: "The source IP addresses that made the most requests, with their error count and the \
                      number of principals using each address.",
        sql: "SELECT sourceipaddress, count(*) AS requests, count_if(errorcode IS NOT NULL) AS errors, \
              approx_distinct(useridentity.arn) AS principals \
              FROM <EDS_ID> \
              GROUP BY sourceipaddress \
              ORDER BY requests DESC \
              LIMIT 50",
    },
    SampleQuery {
        name: "Principals using many IP addresses",
        description: "Principals whose calls came from more than five distinct source IP addresses in the past \
                      day, which can mean shared or stolen credentials.",
        sql: "SELECT useridentity.arn AS principal_arn, approx_distinct(sourceipaddress) AS ip_addresses, \
              count(*) AS calls \
              FROM <EDS_ID> \
              WHERE eventtime > date_add('day', -1, now()) AND useridentity.arn IS NOT NULL \
              GROUP BY useridentity.arn \
              HAVING approx_distinct(sourceipaddress) > 5 \
              ORDER BY ip_addresses DESC",
    },
    SampleQuery {
        name: "IAM users created",
        description: "New IAM users: who created each user and when, from the CreateUser events of IAM.",
        sql: "SELECT eventtime, element_at(requestparameters, 'userName') AS new_user, \
              useridentity.arn AS created_by, sourceipaddress \
              FROM <EDS_ID> \
              WHERE eventsource = 'iam.amazonaws.com' AND eventname = 'CreateUser' AND errorcode IS NULL \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "IAM access keys created",
        description: "Access keys created for IAM users (CreateAccessKey), with the user the key belongs to \
                      and the principal that created it; long-term credentials to review.",
        sql: "SELECT eventtime, element_at(requestparameters, 'userName') AS key_user, \
              useridentity.arn AS created_by, sourceipaddress \
              FROM <EDS_ID> \
              WHERE eventsource = 'iam.amazonaws.com' AND eventname = 'CreateAccessKey' \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "IAM policy changes",
        description: "Changes to IAM permissions: policies created, attached, detached, put inline or \
                      deleted for users, groups and roles.",
        sql: "SELECT eventtime, eventname, useridentity.arn AS changed_by, \
              element_at(requestparameters, 'policyArn') AS policy_arn, \
              coalesce(element_at(requestparameters, 'roleName'), element_at(requestparameters, 'userName'), \
              element_at(requestparameters, 'groupName')) AS target \
              FROM <EDS_ID> \
              WHERE eventsource = 'iam.amazonaws.com' AND eventname IN ('CreatePolicy', 'CreatePolicyVersion', \
              'DeletePolicy', 'AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy', 'DetachUserPolicy', \
              'DetachRolePolicy', 'DetachGroupPolicy', 'PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy', \
              'DeleteUserPolicy', 'DeleteRolePolicy', 'DeleteGroupPolicy') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Users added to IAM groups",
        description: "AddUserToGroup calls: which user joined which IAM group and who added them, with groups \
                      whose name suggests administrator rights listed first.",
        sql: "SELECT eventtime, element_at(requestparameters, 'groupName') AS group_name, \
              element_at(requestparameters, 'userName') AS user_name, useridentity.arn AS added_by, \
              regexp_like(element_at(requestparameters, 'groupName'), '(?i)admin') AS admin_group \
              FROM <EDS_ID> \
              WHERE eventsource = 'iam.amazonaws.com' AND eventname = 'AddUserToGroup' \
              ORDER BY admin_group DESC, eventtime DESC",
    },
    SampleQuery {
        name: "IAM role assumptions",
        description: "AssumeRole calls to AWS STS per role and caller: which principals take on which roles \
                      and how often.",
        sql: "SELECT element_at(requestparameters, 'roleArn') AS role_arn, useridentity.arn AS caller_arn, \
              count(*) AS assumptions, max(eventtime) AS last_assumed \
              FROM <EDS_ID> \
              WHERE eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRole' \
              GROUP BY element_at(requestparameters, 'roleArn'), useridentity.arn \
              ORDER BY assumptions DESC",
    },
    SampleQuery {
        name: "Cross-account access",
        description: "Calls made by principals of another AWS account than the one that recorded the event: \
                      cross-account role use and shared resources.",
        sql: "SELECT useridentity.accountid AS caller_account, recipientaccountid, eventsource, eventname, \
              count(*) AS calls \
              FROM <EDS_ID> \
              WHERE useridentity.accountid IS NOT NULL AND useridentity.accountid <> recipientaccountid \
              GROUP BY useridentity.accountid, recipientaccountid, eventsource, eventname \
              ORDER BY calls DESC",
    },
    SampleQuery {
        name: "Federated sign-ins",
        description: "Role sessions obtained through identity federation (SAML or web identity, such as an \
                      OIDC provider) with AssumeRoleWithSAML and AssumeRoleWithWebIdentity.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'roleArn') AS role_arn, \
              useridentity.principalid, sourceipaddress, errorcode \
              FROM <EDS_ID> \
              WHERE eventsource = 'sts.amazonaws.com' \
              AND eventname IN ('AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Security groups opened to the internet",
        description: "Security group ingress rules added with AuthorizeSecurityGroupIngress that allow any \
                      address (0.0.0.0/0 or ::/0) to connect.",
        sql: "SELECT eventtime, element_at(requestparameters, 'groupId') AS group_id, useridentity.arn AS changed_by, \
              element_at(requestparameters, 'ipPermissions') AS permissions \
              FROM <EDS_ID> \
              WHERE eventsource = 'ec2.amazonaws.com' AND eventname = 'AuthorizeSecurityGroupIngress' \
              AND (element_at(requestparameters, 'ipPermissions') LIKE '%0.0.0.0/0%' \
              OR element_at(requestparameters, 'ipPermissions') LIKE '%::/0%') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Security group changes",
        description: "Every change to EC2 security groups and their rules: created, deleted, ingress and \
                      egress rules authorized or revoked.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'groupId') AS group_id, \
              useridentity.arn AS changed_by, errorcode \
              FROM <EDS_ID> \
              WHERE eventsource = 'ec2.amazonaws.com' AND eventname IN ('CreateSecurityGroup', \
              'DeleteSecurityGroup', 'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', \
              'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress', 'ModifySecurityGroupRules') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "EC2 instances launched",
        description: "RunInstances calls that launched EC2 instances: instance type, image, region and the \
                      principal that started them.",
        sql: "SELECT eventtime, awsregion, element_at(requestparameters, 'instanceType') AS instance_type, \
              element_at(requestparameters, 'imageId') AS image_id, useridentity.arn AS launched_by, errorcode \
              FROM <EDS_ID> \
              WHERE eventsource = 'ec2.amazonaws.com' AND eventname = 'RunInstances' \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "EC2 instances stopped or terminated",
        description: "StopInstances and TerminateInstances calls: which EC2 instances were shut down or \
                      destroyed, and by whom.",
        sql: "SELECT eventtime, eventname, awsregion, element_at(requestparameters, 'instancesSet') AS instances, \
              useridentity.arn AS principal_arn \
              FROM <EDS_ID> \
              WHERE eventsource = 'ec2.amazonaws.com' AND eventname IN ('StopInstances', 'TerminateInstances') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "S3 bucket policy and ACL changes",
        description: "Changes to who may access S3 buckets: bucket policies put or deleted and bucket ACLs \
                      rewritten.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'bucketName') AS bucket, \
              useridentity.arn AS changed_by, sourceipaddress \
              FROM <EDS_ID> \
              WHERE eventsource = 's3.amazonaws.com' \
              AND eventname IN ('PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketAcl') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "S3 public access block changes",
        description: "Changes to the S3 Block Public Access settings of buckets and of the account; removing \
                      the block can expose data publicly.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'bucketName') AS bucket, \
              useridentity.arn AS changed_by \
              FROM <EDS_ID> \
              WHERE eventname IN ('PutBucketPublicAccessBlock', 'DeleteBucketPublicAccessBlock', \
              'PutAccountPublicAccessBlock', 'DeleteAccountPublicAccessBlock') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "S3 buckets created or deleted",
        description: "CreateBucket and DeleteBucket calls: the S3 bucket, region and the principal that made \
                      the change.",
        sql: "SELECT eventtime, eventname, awsregion, element_at(requestparameters, 'bucketName') AS bucket, \
              useridentity.arn AS principal_arn, errorcode \
              FROM <EDS_ID> \
              WHERE eventsource = 's3.amazonaws.com' AND eventname IN ('CreateBucket', 'DeleteBucket') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "S3 object downloads by bucket",
        description: "GetObject data events counted per S3 bucket and principal: who reads which bucket's \
                      objects, and how much. Needs an event data store that collects S3 data events.",
        sql: "SELECT element_at(requestparameters, 'bucketName') AS bucket, useridentity.arn AS reader, \
              count(*) AS object_reads \
              FROM <EDS_ID> \
              WHERE eventsource = 's3.amazonaws.com' AND eventname = 'GetObject' \
              GROUP BY element_at(requestparameters, 'bucketName'), useridentity.arn \
              ORDER BY object_reads DESC",
    },
    SampleQuery {
        name: "S3 object deletions",
        description: "DeleteObject and DeleteObjects data events: which S3 objects were removed from which \
                      bucket, and by whom.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'bucketName') AS bucket, \
              element_at(requestparameters, 'key') AS object_key, useridentity.arn AS deleted_by \
              FROM <EDS_ID> \
              WHERE eventsource = 's3.amazonaws.com' AND eventname IN ('DeleteObject', 'DeleteObjects') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "CloudTrail configuration changes",
        description: "Calls that stop, delete or reconfigure CloudTrail trails and event selectors: a common \
                      step when someone tries to hide their tracks by disabling logging.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'name') AS trail, \
              useridentity.arn AS principal_arn, sourceipaddress, errorcode \
              FROM <EDS_ID> \
              WHERE eventsource = 'cloudtrail.amazonaws.com' AND eventname IN ('StopLogging', 'DeleteTrail', \
              'UpdateTrail', 'PutEventSelectors', 'PutInsightSelectors', 'DeleteEventDataStore') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Security services disabled",
        description: "Calls that turn off security monitoring: GuardDuty detectors deleted, Security Hub \
                      disabled, AWS Config recorders stopped or deleted, Access Analyzer removed.",
        sql: "SELECT eventtime, eventsource, eventname, awsregion, useridentity.arn AS principal_arn \
              FROM <EDS_ID> \
              WHERE eventname IN ('DeleteDetector', 'DisableSecurityHub', 'StopConfigurationRecorder', \
              'DeleteConfigurationRecorder', 'DeleteDeliveryChannel', 'DeleteAnalyzer') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "KMS keys disabled or scheduled for deletion",
        description: "AWS KMS keys that were disabled or scheduled for deletion, which makes data encrypted \
                      with them unreadable.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'keyId') AS key_id, \
              element_at(requestparameters, 'pendingWindowInDays') AS pending_days, useridentity.arn AS principal_arn \
              FROM <EDS_ID> \
              WHERE eventsource = 'kms.amazonaws.com' AND eventname IN ('DisableKey', 'ScheduleKeyDeletion') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Network ACL and route table changes",
        description: "Changes to VPC network ACL entries, route tables, internet gateways and NAT gateways \
                      that alter how traffic flows.",
        sql: "SELECT eventtime, eventname, awsregion, useridentity.arn AS changed_by, errorcode \
              FROM <EDS_ID> \
              WHERE eventsource = 'ec2.amazonaws.com' AND eventname IN ('CreateNetworkAclEntry', \
              'ReplaceNetworkAclEntry', 'DeleteNetworkAclEntry', 'CreateRoute', 'ReplaceRoute', 'DeleteRoute', \
              'AttachInternetGateway', 'DetachInternetGateway', 'CreateNatGateway', 'DeleteNatGateway') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "VPC changes",
        description: "VPCs, subnets and VPC peering connections created, modified or deleted.",
        sql: "SELECT eventtime, eventname, awsregion, element_at(requestparameters, 'vpcId') AS vpc_id, \
              useridentity.arn AS changed_by \
              FROM <EDS_ID> \
              WHERE eventsource = 'ec2.amazonaws.com' AND eventname IN ('CreateVpc', 'DeleteVpc', \
              'ModifyVpcAttribute', 'CreateSubnet', 'DeleteSubnet', 'CreateVpcPeeringConnection', \
              'AcceptVpcPeeringConnection', 'DeleteVpcPeeringConnection') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Lambda function changes",
        description: "AWS Lambda functions created, updated (code or configuration), deleted or given new \
                      resource permissions.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'functionName') AS function_name, \
              useridentity.arn AS changed_by, errorcode \
              FROM <EDS_ID> \
              WHERE eventsource = 'lambda.amazonaws.com' AND readonly = false \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Write activity by principal",
        description: "Principals that made the most changes (calls that are not read-only), with the \
                      services they changed.",
        sql: "SELECT useridentity.arn AS principal_arn, count(*) AS write_calls, \
              approx_distinct(eventsource) AS services \
              FROM <EDS_ID> \
              WHERE readonly = false \
              GROUP BY useridentity.arn \
              ORDER BY write_calls DESC \
              LIMIT 50",
    },
    SampleQuery {
        name: "Read and write calls per day",
        description: "Daily counts of read-only and write API calls and of failed calls, to follow the trend of \
                      activity over the past month.",
        sql: "SELECT date_trunc('day', eventtime) AS day, count_if(readonly) AS read_calls, \
              count_if(NOT readonly) AS write_calls, count_if(errorcode IS NOT NULL) AS failed_calls \
              FROM <EDS_ID> \
              WHERE eventtime > date_add('day', -30, now()) \
              GROUP BY date_trunc('day', eventtime) \
              ORDER BY day",
    },
    SampleQuery {
        name: "Changes made in the AWS Management Console",
        description: "Write calls made with console session credentials, meaning someone clicked through the \
                      AWS Management Console rather than using code or the CLI.",
        sql: "SELECT eventtime, eventsource, eventname, useridentity.arn AS principal_arn, sourceipaddress \
              FROM <EDS_ID> \
              WHERE sessioncredentialfromconsole = 'true' AND readonly = false \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Calls made by AWS services",
        description: "Events where an AWS service acted on the account's behalf (identity type AWSService or a \
                      call invoked by a service), grouped by the invoking service.",
        sql: "SELECT coalesce(useridentity.invokedby, eventsource) AS service, eventname, count(*) AS calls \
              FROM <EDS_ID> \
              WHERE useridentity.type = 'AWSService' OR useridentity.invokedby IS NOT NULL \
              GROUP BY coalesce(useridentity.invokedby, eventsource), eventname \
              ORDER BY calls DESC",
    },
    SampleQuery {
        name: "Throttled API requests",
        description: "Requests rejected by throttling (rate exceeded or request limit errors), per service, \
                      event and caller: where applications hit AWS API rate limits.",
        sql: "SELECT eventsource, eventname, useridentity.arn AS principal_arn, count(*) AS throttled \
              FROM <EDS_ID> \
              WHERE regexp_like(errorcode, '(?i)throttl|ratelimit|requestlimitexceeded|toomanyrequests') \
              GROUP BY eventsource, eventname, useridentity.arn \
              ORDER BY throttled DESC",
    },
    SampleQuery {
        name: "Activity per IAM user",
        description: "For each IAM user: the number of calls, the number of failed calls and the time of the \
                      last activity.",
        sql: "SELECT useridentity.username AS user_name, count(*) AS calls, \
              count_if(errorcode IS NOT NULL) AS failed_calls, max(eventtime) AS last_activity \
              FROM <EDS_ID> \
              WHERE useridentity.type = 'IAMUser' \
              GROUP BY useridentity.username \
              ORDER BY calls DESC",
    },
    SampleQuery {
        name: "Access key usage",
        description: "Which access keys were used, by which principal, how often and when each key was last \
                      used; finds unused or leaked keys.",
        sql: "SELECT useridentity.accesskeyid AS access_key_id, useridentity.arn AS principal_arn, \
              count(*) AS calls, min(eventtime) AS first_used, max(eventtime) AS last_used \
              FROM <EDS_ID> \
              WHERE useridentity.accesskeyid IS NOT NULL \
              GROUP BY useridentity.accesskeyid, useridentity.arn \
              ORDER BY last_used DESC",
    },
    SampleQuery {
        name: "Outdated TLS versions",
        description: "Requests that negotiated TLS 1.0 or TLS 1.1, by service and caller: clients to upgrade \
                      before older TLS versions are turned off.",
        sql: "SELECT tlsdetails.tlsversion AS tls_version, eventsource, useridentity.arn AS principal_arn, \
              count(*) AS requests \
              FROM <EDS_ID> \
              WHERE tlsdetails.tlsversion IN ('TLSv1', 'TLSv1.1') \
              GROUP BY tlsdetails.tlsversion, eventsource, useridentity.arn \
              ORDER BY requests DESC",
    },
    SampleQuery {
        name: "Suspicious user agents",
        description: "Calls whose user agent names scripting or penetration testing tools (curl, wget, \
                      python-requests, scanners, Kali Linux) instead of an AWS SDK or the console.",
        sql: "SELECT useragent, useridentity.arn AS principal_arn, sourceipaddress, count(*) AS calls \
              FROM <EDS_ID> \
              WHERE regexp_like(useragent, '(?i)(curl|wget|python-requests|nmap|sqlmap|nikto|kali|parrot|pacu)') \
              GROUP BY useragent, useridentity.arn, sourceipaddress \
              ORDER BY calls DESC",
    },
    SampleQuery {
        name: "Secrets Manager secret reads",
        description: "GetSecretValue calls to AWS Secrets Manager: which secrets were read, by whom and from \
                      where.",
        sql: "SELECT eventtime, element_at(requestparameters, 'secretId') AS secret_id, \
              useridentity.arn AS reader, sourceipaddress, errorcode \
              FROM <EDS_ID> \
              WHERE eventsource = 'secretsmanager.amazonaws.com' AND eventname = 'GetSecretValue' \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "SSM parameters read with decryption",
        description: "Systems Manager Parameter Store reads that decrypted SecureString parameters \
                      (GetParameter or GetParameters with decryption).",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'name') AS parameter_name, \
              useridentity.arn AS reader \
              FROM <EDS_ID> \
              WHERE eventsource = 'ssm.amazonaws.com' \
              AND eventname IN ('GetParameter', 'GetParameters', 'GetParametersByPath') \
              AND element_at(requestparameters, 'withDecryption') = 'true' \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "DynamoDB table changes",
        description: "DynamoDB tables created, updated or deleted, and changes to their backups and point in \
                      time recovery.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'tableName') AS table_name, \
              useridentity.arn AS changed_by, errorcode \
              FROM <EDS_ID> \
              WHERE eventsource = 'dynamodb.amazonaws.com' AND eventname IN ('CreateTable', 'UpdateTable', \
              'DeleteTable', 'DeleteBackup', 'UpdateContinuousBackups') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "RDS databases deleted",
        description: "RDS database instances and clusters deleted, and whether a final snapshot was skipped.",
        sql: "SELECT eventtime, eventname, \
              coalesce(element_at(requestparameters, 'dBInstanceIdentifier'), \
              element_at(requestparameters, 'dBClusterIdentifier')) AS database_id, \
              element_at(requestparameters, 'skipFinalSnapshot') AS skipped_final_snapshot, \
              useridentity.arn AS deleted_by \
              FROM <EDS_ID> \
              WHERE eventsource = 'rds.amazonaws.com' AND eventname IN ('DeleteDBInstance', 'DeleteDBCluster') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Events by service",
        description: "Event counts per AWS service (event source), with the share of failed calls; shows \
                      which services are used most.",
        sql: "SELECT eventsource, count(*) AS events, count_if(errorcode IS NOT NULL) AS failed, \
              round(100.0 * count_if(errorcode IS NOT NULL) / count(*), 2) AS failed_percent \
              FROM <EDS_ID> \
              GROUP BY eventsource \
              ORDER BY events DESC",
    },
    SampleQuery {
        name: "Password and login profile changes",
        description: "Console passwords changed or reset, and IAM login profiles created, updated or deleted.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'userName') AS user_name, \
              useridentity.arn AS changed_by, sourceipaddress \
              FROM <EDS_ID> \
              WHERE eventname IN ('ChangePassword', 'CreateLoginProfile', 'UpdateLoginProfile', \
              'DeleteLoginProfile', 'PasswordRecoveryRequested', 'PasswordRecoveryCompleted') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "MFA device changes",
        description: "Multi-factor authentication (MFA) devices created, enabled, deactivated or deleted for \
                      IAM users.",
        sql: "SELECT eventtime, eventname, element_at(requestparameters, 'userName') AS user_name, \
              element_at(requestparameters, 'serialNumber') AS device, useridentity.arn AS changed_by \
              FROM <EDS_ID> \
              WHERE eventsource = 'iam.amazonaws.com' AND eventname IN ('CreateVirtualMFADevice', \
              'EnableMFADevice', 'DeactivateMFADevice', 'DeleteVirtualMFADevice', 'ResyncMFADevice') \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "AWS Organizations changes",
        description: "Changes to the organization: accounts invited, removed or leaving, policies (SCPs) \
                      attached or detached, and organizational units created or deleted.",
        sql: "SELECT eventtime, eventname, useridentity.arn AS principal_arn, errorcode \
              FROM <EDS_ID> \
              WHERE eventsource = 'organizations.amazonaws.com' AND readonly = false \
              ORDER BY eventtime DESC",
    },
    SampleQuery {
        name: "Deleted resources",
        description: "Delete calls of the past week grouped by service, API and principal: what was removed \
                      and by whom.",
        sql: "SELECT eventsource, eventname, useridentity.arn AS principal_arn, count(*) AS deletions \
              FROM <EDS_ID> \
              WHERE eventname LIKE 'Delete%' AND errorcode IS NULL AND eventtime > date_add('day', -7, now()) \
              GROUP BY eventsource, eventname, useridentity.arn \
              ORDER BY deletions DESC",
    },
    SampleQuery {
        name: "Top principals by API calls",
        description: "The principals (users, roles and services) that made the most API calls, with the share \
                      of their calls that failed.",
        sql: "SELECT useridentity.arn AS principal_arn, useridentity.type AS identity_type, count(*) AS calls, \
              count_if(errorcode IS NOT NULL) AS failed_calls \
              FROM <EDS_ID> \
              GROUP BY useridentity.arn, useridentity.type \
              ORDER BY calls DESC \
              LIMIT 50",
    },
    SampleQuery {
        name: "Recent events of a role session",
        description: "The latest calls made under assumed-role sessions, with the role (session issuer) and the \
                      session name, newest first.",
        sql: "SELECT eventtime, useridentity.sessioncontext.sessionissuer.arn AS role_arn, \
              useridentity.principalid AS session, eventsource, eventname, errorcode \
              FROM <EDS_ID> \
              WHERE useridentity.type = 'AssumedRole' \
              ORDER BY eventtime DESC \
              LIMIT 200",
    },
    SampleQuery {
        name: "Failed API calls",
        description: "The most recent API calls that failed, with the error code and error message of each.",
        sql: "SELECT eventtime, eventsource, eventname, useridentity.arn AS principal_arn, errorcode, errormessage \
              FROM <EDS_ID> \
              WHERE errorcode IS NOT NULL \
              ORDER BY eventtime DESC \
              LIMIT 200",
    },
];
