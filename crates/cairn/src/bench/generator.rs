//! A seeded generator of realistic CloudTrail management-event records, as JSON text.
//!
//! The shape and mix are modelled on the real logs in `shared/corpora/cloudtrail/invictus` (2,900 records:
//! mean 1.26 KB, median 1.17 KB, p90 1.67 KB; ~10% errors; `readOnly` true for 80%; ~25% with `resources`;
//! `responseElements` null for 90%; long Terraform/SDK user agents; `tlsDetails` on most API calls) with two
//! deliberate departures, because that corpus is one lab account driven by one IAM user: identities follow a
//! production mix (assumed-role sessions dominate, then IAM users, AWS services, a little root), and events are
//! spread over several accounts and regions. Event sources (41) and the event names within each follow Zipf-like
//! weights; principals, access keys and resources are drawn from per-account pools with Zipf weights, so every
//! lookup attribute has both very common and very rare values. Activity comes in bursts, as in the corpus: 16
//! sessions are active at once, each makes ~20 calls (exponentially distributed) from one IP address, user agent
//! and region, 60% of them to the same service as its previous call, and their calls interleave. That locality is
//! what makes real logs compress (gzip -1: 166 B/record for invictus, 251 here, 287 without bursts); the rest of
//! the gap is randomness real records have too (event and request IDs, session tokens, encoded messages) in the
//! larger share of assumed-role traffic.
//!
//! The same seed and configuration always give the same records (the ids are drawn from the seeded generator
//! too), so a benchmark can rebuild or reuse a data set and ask about values it knows are there.

use std::fmt::Write as _;

use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

/// What to generate.
#[derive(Debug, Clone)]
pub(crate) struct GeneratorConfig {
    pub(crate) seed: u64,
    /// How many records the whole run generates; event times are spread evenly over the window by position.
    pub(crate) n_events: u64,
    /// Event times fall in `[start, end]`, in generation order give or take a few minutes (as logs arrive).
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
}

/// The accounts records belong to, with their share of the events.
pub(crate) const ACCOUNTS: [(&str, f64); 3] = [("218007301253", 0.6), ("123837392027", 0.3), ("706154938561", 0.1)];

/// Regions with their share of regional events; global services (IAM, STS' global endpoint, Organizations,
/// Route 53, CloudFront, sign-in, Cost Explorer) record in us-east-1.
pub(crate) const REGIONS: [(&str, f64); 4] =
    [("us-east-1", 0.5), ("eu-west-1", 0.25), ("us-west-2", 0.15), ("ap-southeast-2", 0.1)];

/// The share of records that carry an error (the invictus corpus has 10.3%).
const ERROR_RATE: f64 = 0.10;

/// Sessions active at once; each event comes from one of them, so their bursts interleave.
const N_ACTORS: usize = 16;
/// Mean number of calls one session makes.
const MEAN_BURST: f64 = 20.0;
/// The chance that a session's next call goes to the same service as its last.
const SAME_SERVICE: f64 = 0.6;

/// How far (seconds) an event may be out of order relative to its position.
const JITTER_SECONDS: i64 = 120;

/// A cumulative-weight table for drawing an index.
#[derive(Debug, Clone)]
struct Picker {
    cumulative: Vec<f64>,
}

impl Picker {
    fn new(weights: impl IntoIterator<Item = f64>) -> Picker {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Picker { cumulative }
    }

    /// Zipf weights `1 / (rank + 1)^s` for `n` items.
    fn zipf(n: usize, s: f64) -> Picker {
        Picker::new((0..n).map(|rank| 1.0 / ((rank + 1) as f64).powf(s)))
    }

    fn pick(&self, rng: &mut StdRng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        self.cumulative.partition_point(|&c| c <= x).min(self.cumulative.len().saturating_sub(1))
    }
}

/// What kind of thing a call is about: chooses its request parameters, response and resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Ec2Describe,
    Ec2Instance,
    Bucket,
    AccountS3,
    Key,
    AssumeRole,
    Caller,
    IamRole,
    IamUser,
    Parameter,
    Secret,
    Function,
    LogGroup,
    Table,
    Trail,
    Topic,
    Queue,
    Stack,
    Cluster,
    ConsoleLogin,
    List,
}

#[derive(Debug)]
struct Call {
    name: &'static str,
    read_only: bool,
    family: Family,
}

#[derive(Debug)]
struct Service {
    source: &'static str,
    weight: f64,
    /// Recorded in us-east-1 whatever the caller's region.
    global: bool,
    calls: &'static [Call],
}

const fn r(name: &'static str, family: Family) -> Call {
    Call { name, read_only: true, family }
}

const fn w(name: &'static str, family: Family) -> Call {
    Call { name, read_only: false, family }
}

use Family::*;

/// Event sources with Zipf-like weights; within each, calls are drawn with Zipf weights in the order listed.
const SERVICES: &[Service] = &[
    Service {
        source: "ec2.amazonaws.com",
        weight: 20.0,
        global: false,
        calls: &[
            r("DescribeInstances", Ec2Describe),
            r("DescribeRouteTables", Ec2Describe),
            r("DescribeSecurityGroups", Ec2Describe),
            r("DescribeVpcs", Ec2Describe),
            r("DescribeSubnets", Ec2Describe),
            r("DescribeNetworkInterfaces", Ec2Describe),
            r("DescribeVolumes", Ec2Describe),
            r("DescribeInstanceStatus", Ec2Describe),
            r("DescribeImages", Ec2Describe),
            r("DescribeNatGateways", Ec2Describe),
            r("DescribeAddresses", Ec2Describe),
            r("DescribeAvailabilityZones", Ec2Describe),
            w("CreateTags", Ec2Instance),
            r("DescribeAccountAttributes", Ec2Describe),
            w("StartInstances", Ec2Instance),
            w("StopInstances", Ec2Instance),
            w("RunInstances", Ec2Instance),
            w("ModifyInstanceAttribute", Ec2Instance),
            w("TerminateInstances", Ec2Instance),
            r("GetPasswordData", Ec2Instance),
            w("AuthorizeSecurityGroupIngress", Ec2Describe),
            w("CreateSnapshot", Ec2Instance),
        ],
    },
    Service {
        source: "sts.amazonaws.com",
        weight: 14.0,
        global: false,
        calls: &[
            r("AssumeRole", AssumeRole),
            r("GetCallerIdentity", Caller),
            r("AssumeRoleWithWebIdentity", AssumeRole),
            r("GetSessionToken", Caller),
            r("AssumeRoleWithSAML", AssumeRole),
        ],
    },
    Service {
        source: "kms.amazonaws.com",
        weight: 12.0,
        global: false,
        calls: &[
            r("Decrypt", Key),
            r("GenerateDataKey", Key),
            r("Encrypt", Key),
            r("DescribeKey", Key),
            r("ListAliases", List),
            r("GetKeyPolicy", Key),
            r("ListKeys", List),
            w("CreateGrant", Key),
            w("RetireGrant", Key),
            w("ScheduleKeyDeletion", Key),
            w("DisableKey", Key),
        ],
    },
    Service {
        source: "s3.amazonaws.com",
        weight: 10.0,
        global: false,
        calls: &[
            r("GetBucketAcl", Bucket),
            r("GetBucketLocation", Bucket),
            r("ListBuckets", AccountS3),
            r("GetBucketPolicy", Bucket),
            r("GetBucketVersioning", Bucket),
            r("GetBucketTagging", Bucket),
            r("GetBucketEncryption", Bucket),
            r("GetBucketPublicAccessBlock", Bucket),
            r("GetBucketLogging", Bucket),
            r("GetBucketCors", Bucket),
            r("GetBucketLifecycle", Bucket),
            r("GetAccountPublicAccessBlock", AccountS3),
            w("PutBucketTagging", Bucket),
            w("PutBucketPolicy", Bucket),
            w("CreateBucket", Bucket),
            w("PutBucketPublicAccessBlock", Bucket),
            w("DeleteBucket", Bucket),
        ],
    },
    Service {
        source: "iam.amazonaws.com",
        weight: 7.0,
        global: true,
        calls: &[
            r("GetRole", IamRole),
            r("GetUser", IamUser),
            r("ListAttachedRolePolicies", IamRole),
            r("ListRolePolicies", IamRole),
            r("ListRoles", List),
            r("GetPolicy", List),
            r("GetPolicyVersion", List),
            r("ListUsers", List),
            r("ListAccessKeys", IamUser),
            r("GenerateCredentialReport", List),
            w("AttachRolePolicy", IamRole),
            w("PutRolePolicy", IamRole),
            w("CreateRole", IamRole),
            w("UpdateAssumeRolePolicy", IamRole),
            w("CreateAccessKey", IamUser),
            w("DeleteAccessKey", IamUser),
            w("CreateUser", IamUser),
            w("CreateLoginProfile", IamUser),
        ],
    },
    Service {
        source: "ssm.amazonaws.com",
        weight: 6.0,
        global: false,
        calls: &[
            w("UpdateInstanceInformation", Ec2Instance),
            r("GetParameter", Parameter),
            r("ListInstanceAssociations", Ec2Instance),
            r("GetParameters", Parameter),
            r("DescribeParameters", List),
            r("GetParametersByPath", Parameter),
            r("DescribeInstanceInformation", List),
            w("PutParameter", Parameter),
            w("DeleteParameter", Parameter),
            w("SendCommand", Ec2Instance),
            w("StartSession", Ec2Instance),
        ],
    },
    Service {
        source: "secretsmanager.amazonaws.com",
        weight: 4.0,
        global: false,
        calls: &[
            r("GetSecretValue", Secret),
            r("DescribeSecret", Secret),
            r("ListSecrets", List),
            r("GetResourcePolicy", Secret),
            w("PutSecretValue", Secret),
            w("RotateSecret", Secret),
            w("CreateSecret", Secret),
            w("DeleteSecret", Secret),
        ],
    },
    Service {
        source: "lambda.amazonaws.com",
        weight: 4.0,
        global: false,
        calls: &[
            r("ListFunctions20150331", List),
            r("GetFunction20150331v2", Function),
            r("GetPolicy20150331v2", Function),
            r("ListTags20170331", Function),
            w("UpdateFunctionCode20150331v2", Function),
            w("UpdateFunctionConfiguration20150331v2", Function),
            w("AddPermission20150331v2", Function),
            w("CreateFunction20150331", Function),
        ],
    },
    Service {
        source: "logs.amazonaws.com",
        weight: 4.0,
        global: false,
        calls: &[
            w("CreateLogStream", LogGroup),
            r("DescribeLogGroups", List),
            r("DescribeLogStreams", LogGroup),
            r("FilterLogEvents", LogGroup),
            r("GetLogEvents", LogGroup),
            w("CreateLogGroup", LogGroup),
            w("PutRetentionPolicy", LogGroup),
            w("DeleteLogGroup", LogGroup),
        ],
    },
    Service {
        source: "monitoring.amazonaws.com",
        weight: 3.0,
        global: false,
        calls: &[
            r("DescribeAlarms", List),
            r("GetMetricData", List),
            r("ListMetrics", List),
            w("PutMetricAlarm", List),
            w("DeleteAlarms", List),
        ],
    },
    Service {
        source: "dynamodb.amazonaws.com",
        weight: 3.0,
        global: false,
        calls: &[
            r("DescribeTable", Table),
            r("ListTables", List),
            r("DescribeContinuousBackups", Table),
            r("DescribeTimeToLive", Table),
            r("ListTagsOfResource", Table),
            w("UpdateTable", Table),
            w("CreateTable", Table),
            w("DeleteTable", Table),
        ],
    },
    Service {
        source: "rds.amazonaws.com",
        weight: 2.5,
        global: false,
        calls: &[
            r("DescribeDBInstances", List),
            r("DescribeDBClusters", List),
            r("DescribeDBSnapshots", List),
            r("DescribeOrderableDBInstanceOptions", List),
            r("DescribeDBEngineVersions", List),
            r("DescribeEvents", List),
            w("CreateDBSnapshot", List),
            w("ModifyDBInstance", List),
        ],
    },
    Service {
        source: "cloudtrail.amazonaws.com",
        weight: 2.0,
        global: false,
        calls: &[
            r("DescribeTrails", List),
            r("GetTrailStatus", Trail),
            r("LookupEvents", List),
            r("GetEventSelectors", Trail),
            r("ListTrails", List),
            w("PutEventSelectors", Trail),
            w("UpdateTrail", Trail),
            w("CreateTrail", Trail),
            w("StopLogging", Trail),
            w("DeleteTrail", Trail),
        ],
    },
    Service {
        source: "elasticloadbalancing.amazonaws.com",
        weight: 2.0,
        global: false,
        calls: &[
            r("DescribeTargetHealth", List),
            r("DescribeLoadBalancers", List),
            r("DescribeTargetGroups", List),
            r("DescribeListeners", List),
            w("RegisterTargets", List),
            w("DeregisterTargets", List),
            w("ModifyTargetGroup", List),
        ],
    },
    Service {
        source: "autoscaling.amazonaws.com",
        weight: 2.0,
        global: false,
        calls: &[
            r("DescribeAutoScalingGroups", List),
            r("DescribeScalingActivities", List),
            r("DescribeLaunchConfigurations", List),
            w("SetDesiredCapacity", List),
            w("UpdateAutoScalingGroup", List),
        ],
    },
    Service {
        source: "ecr.amazonaws.com",
        weight: 2.0,
        global: false,
        calls: &[
            r("GetAuthorizationToken", Caller),
            r("BatchCheckLayerAvailability", List),
            r("DescribeRepositories", List),
            r("DescribeImages", List),
            r("ListImages", List),
            w("PutImage", List),
            w("CreateRepository", List),
        ],
    },
    Service {
        source: "eks.amazonaws.com",
        weight: 1.5,
        global: false,
        calls: &[
            r("DescribeCluster", Cluster),
            r("ListClusters", List),
            r("ListNodegroups", Cluster),
            r("DescribeNodegroup", Cluster),
            w("UpdateNodegroupConfig", Cluster),
            w("CreateAccessEntry", Cluster),
        ],
    },
    Service {
        source: "ecs.amazonaws.com",
        weight: 1.5,
        global: false,
        calls: &[
            r("DescribeServices", Cluster),
            r("DescribeTasks", Cluster),
            r("ListTasks", Cluster),
            r("ListServices", Cluster),
            r("DescribeTaskDefinition", List),
            w("RegisterTaskDefinition", List),
            w("UpdateService", Cluster),
            w("RunTask", Cluster),
        ],
    },
    Service {
        source: "cloudformation.amazonaws.com",
        weight: 1.5,
        global: false,
        calls: &[
            r("DescribeStacks", Stack),
            r("DescribeStackEvents", Stack),
            r("ListStacks", List),
            r("GetTemplate", Stack),
            r("DescribeStackResources", Stack),
            w("CreateChangeSet", Stack),
            w("ExecuteChangeSet", Stack),
            w("UpdateStack", Stack),
            w("CreateStack", Stack),
            w("DeleteStack", Stack),
        ],
    },
    Service {
        source: "sns.amazonaws.com",
        weight: 1.0,
        global: false,
        calls: &[
            r("GetTopicAttributes", Topic),
            r("ListTopics", List),
            r("ListSubscriptionsByTopic", Topic),
            w("SetTopicAttributes", Topic),
            w("Subscribe", Topic),
            w("CreateTopic", Topic),
        ],
    },
    Service {
        source: "sqs.amazonaws.com",
        weight: 1.0,
        global: false,
        calls: &[
            r("GetQueueAttributes", Queue),
            r("ListQueues", List),
            r("ListQueueTags", Queue),
            w("SetQueueAttributes", Queue),
            w("CreateQueue", Queue),
            w("DeleteQueue", Queue),
        ],
    },
    Service {
        source: "route53.amazonaws.com",
        weight: 1.0,
        global: true,
        calls: &[
            r("ListResourceRecordSets", List),
            r("ListHostedZones", List),
            r("GetHostedZone", List),
            r("GetChange", List),
            w("ChangeResourceRecordSets", List),
        ],
    },
    Service {
        source: "config.amazonaws.com",
        weight: 1.0,
        global: false,
        calls: &[
            w("PutEvaluations", List),
            r("DescribeConfigRules", List),
            r("DescribeConfigurationRecorderStatus", List),
            r("DescribeConfigurationRecorders", List),
            r("GetComplianceDetailsByConfigRule", List),
            r("DescribeDeliveryChannels", List),
            w("PutConfigRule", List),
        ],
    },
    Service {
        source: "guardduty.amazonaws.com",
        weight: 0.8,
        global: false,
        calls: &[
            r("ListDetectors", List),
            r("GetDetector", List),
            r("ListFindings", List),
            r("GetFindings", List),
            w("UpdateDetector", List),
            w("CreateSampleFindings", List),
        ],
    },
    Service {
        source: "securityhub.amazonaws.com",
        weight: 0.8,
        global: false,
        calls: &[
            w("BatchImportFindings", List),
            r("GetFindings", List),
            r("DescribeHub", List),
            r("GetEnabledStandards", List),
            w("BatchUpdateFindings", List),
        ],
    },
    Service {
        source: "cloudfront.amazonaws.com",
        weight: 0.6,
        global: true,
        calls: &[
            r("ListDistributions", List),
            r("GetDistribution", List),
            r("GetDistributionConfig", List),
            w("CreateInvalidation", List),
            w("UpdateDistribution", List),
        ],
    },
    Service {
        source: "organizations.amazonaws.com",
        weight: 0.5,
        global: true,
        calls: &[
            r("DescribeOrganization", List),
            r("ListAccounts", List),
            r("ListPoliciesForTarget", List),
            r("DescribeAccount", List),
            r("ListRoots", List),
            r("ListOrganizationalUnitsForParent", List),
            w("AttachPolicy", List),
            w("CreateAccount", List),
            w("LeaveOrganization", List),
        ],
    },
    Service {
        source: "signin.amazonaws.com",
        weight: 0.5,
        global: true,
        calls: &[w("ConsoleLogin", ConsoleLogin), w("SwitchRole", ConsoleLogin), w("CheckMfa", ConsoleLogin)],
    },
    Service {
        source: "health.amazonaws.com",
        weight: 0.5,
        global: false,
        calls: &[r("DescribeEventAggregates", List), r("DescribeEvents", List), r("DescribeEventDetails", List)],
    },
    Service {
        source: "apigateway.amazonaws.com",
        weight: 0.5,
        global: false,
        calls: &[
            r("GetRestApis", List),
            r("GetResources", List),
            r("GetStages", List),
            w("CreateDeployment", List),
            w("UpdateStage", List),
        ],
    },
    Service {
        source: "kinesis.amazonaws.com",
        weight: 0.4,
        global: false,
        calls: &[
            r("DescribeStreamSummary", List),
            r("ListStreams", List),
            r("DescribeStream", List),
            w("AddTagsToStream", List),
            w("CreateStream", List),
            w("DeleteStream", List),
        ],
    },
    Service {
        source: "states.amazonaws.com",
        weight: 0.4,
        global: false,
        calls: &[
            r("ListStateMachines", List),
            r("DescribeStateMachine", List),
            r("ListExecutions", List),
            r("DescribeExecution", List),
            w("StartExecution", List),
        ],
    },
    Service {
        source: "events.amazonaws.com",
        weight: 0.4,
        global: false,
        calls: &[
            r("ListRules", List),
            r("DescribeRule", List),
            r("ListTargetsByRule", List),
            w("PutRule", List),
            w("PutTargets", List),
        ],
    },
    Service {
        source: "elasticmapreduce.amazonaws.com",
        weight: 0.3,
        global: false,
        calls: &[
            r("ListClusters", List),
            r("DescribeCluster", List),
            w("RunJobFlow", List),
            w("TerminateJobFlows", List),
        ],
    },
    Service {
        source: "acm.amazonaws.com",
        weight: 0.3,
        global: false,
        calls: &[
            r("ListCertificates", List),
            r("DescribeCertificate", List),
            r("GetCertificate", List),
            w("RequestCertificate", List),
            w("DeleteCertificate", List),
        ],
    },
    Service {
        source: "tagging.amazonaws.com",
        weight: 0.3,
        global: false,
        calls: &[r("GetResources", List), r("GetTagKeys", List), w("TagResources", List)],
    },
    Service {
        source: "sso.amazonaws.com",
        weight: 0.2,
        global: false,
        calls: &[
            r("ListAccountAssignments", List),
            r("ListPermissionSets", List),
            r("DescribePermissionSet", List),
            w("CreateAccountAssignment", List),
            w("ProvisionPermissionSet", List),
        ],
    },
    Service {
        source: "access-analyzer.amazonaws.com",
        weight: 0.2,
        global: false,
        calls: &[
            r("ListAnalyzers", List),
            r("ListFindings", List),
            r("GetAnalyzer", List),
            w("StartResourceScan", List),
        ],
    },
    Service {
        source: "backup.amazonaws.com",
        weight: 0.2,
        global: false,
        calls: &[
            r("ListBackupJobs", List),
            r("ListBackupPlans", List),
            r("DescribeBackupVault", List),
            w("StartBackupJob", List),
        ],
    },
    Service {
        source: "ce.amazonaws.com",
        weight: 0.1,
        global: true,
        calls: &[r("GetCostAndUsage", List), r("GetCostForecast", List), r("GetDimensionValues", List)],
    },
    Service {
        source: "ram.amazonaws.com",
        weight: 0.1,
        global: false,
        calls: &[
            r("GetResourceShares", List),
            r("GetResourceShareAssociations", List),
            r("ListResources", List),
            w("CreateResourceShare", List),
        ],
    },
];

const USER_NAMES: &[&str] = &[
    "terraform",
    "ci-deployer",
    "alice.martin",
    "bob.nguyen",
    "backup-agent",
    "grafana-reader",
    "carol.schmidt",
    "datadog-integration",
    "dave.okafor",
    "eve.rossi",
    "jenkins",
    "frank.kowalski",
    "gitlab-runner",
    "grace.lindqvist",
    "heidi.tanaka",
    "ivan.petrov",
    "judy.fernandez",
    "mallory.chen",
    "legacy-etl",
    "niaj.haddad",
    "olivia.brown",
    "peggy.oconnor",
    "rupert.singh",
    "sybil.dubois",
    "breakglass-admin",
];

const ROLE_NAMES: &[&str] = &[
    "eks-node-group-role",
    "github-actions-deploy",
    "lambda-execution-role",
    "AWSReservedSSO_AdministratorAccess_2f6d1a0c3b9e4d57",
    "ecs-task-role",
    "AWSReservedSSO_ReadOnlyAccess_8c1e5b7a9d2f4063",
    "OrganizationAccountAccessRole",
    "karpenter-controller",
    "AWSServiceRoleForAutoScaling",
    "data-pipeline-role",
    "AWSServiceRoleForConfig",
    "ssm-managed-instance-role",
    "AWSServiceRoleForElasticLoadBalancing",
    "cross-account-audit",
    "AWSServiceRoleForAmazonGuardDuty",
    "external-dns",
    "aws-load-balancer-controller",
    "rds-monitoring-role",
    "AWSServiceRoleForSecurityHub",
    "vpc-flow-logs-role",
    "cloudtrail-to-cloudwatch",
    "stratus-red-team-ec2-get-password-data-role",
    "incident-response",
    "AWSReservedSSO_Billing_5e3a9c1d7b2f8046",
    "backup-service-role",
    "cluster-autoscaler",
    "step-functions-role",
    "glue-crawler-role",
    "batch-job-role",
    "break-glass",
];

const SERVICE_PRINCIPALS: &[&str] = &[
    "cloudtrail.amazonaws.com",
    "config.amazonaws.com",
    "autoscaling.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "lambda.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "secretsmanager.amazonaws.com",
    "ssm.amazonaws.com",
    "guardduty.amazonaws.com",
    "inspector2.amazonaws.com",
    "backup.amazonaws.com",
    "rds.amazonaws.com",
];

const USER_AGENTS: &[&str] = &[
    "APN/1.0 HashiCorp/1.0 Terraform/1.6.6 (+https://www.terraform.io) terraform-provider-aws/5.31.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.141.0",
    "aws-sdk-go/1.50.8 (go1.21.6; linux; amd64)",
    "Boto3/1.34.34 md/Botocore#1.34.34 ua/2.0 os/linux#5.10.205-195.807.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.34",
    "AWS Internal",
    "aws-cli/2.15.17 Python/3.11.6 Linux/6.5.0-15-generic exe/x86_64.ubuntu.22 prompt/off command/sts.get-caller-identity",
    "console.amazonaws.com",
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.4.247-169.350.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard]",
    "aws-sdk-java/2.21.46 Linux/5.10.205-195.807.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/adaptive",
    "aws-sdk-go/1.41.4 (go1.18.3; linux; amd64) amazon-ssm-agent/",
    "kubernetes/v1.28.5-eks-5e0fdde aws-sdk-go/1.44.122 (go1.20.10; linux; amd64)",
    "aws-sdk-js/3.496.0 ua/2.0 os/linux#5.10.205-195.807.amzn2.x86_64 lang/js md/nodejs#18.19.0 api/s3#3.496.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
];

const INSTANCE_TYPES: &[&str] = &["t3.medium", "m5.large", "c6i.xlarge", "t3.micro", "r6g.2xlarge"];

/// The named things of one account, drawn with Zipf weights.
#[derive(Debug)]
struct AccountPools {
    id: &'static str,
    /// `(user name, long-term access key, console session access key)`.
    users: Vec<(String, String, String)>,
    /// `(role index, session name, session access key)`.
    sessions: Vec<(usize, String, String)>,
    role_ids: Vec<String>,
    user_ids: Vec<String>,
    root_key: String,
    buckets: Vec<String>,
    keys: Vec<String>,
    instances: Vec<String>,
    parameters: Vec<String>,
    secrets: Vec<String>,
    functions: Vec<String>,
    log_groups: Vec<String>,
    tables: Vec<String>,
    topics: Vec<String>,
    queues: Vec<String>,
    stacks: Vec<String>,
    clusters: Vec<String>,
    ips: Vec<String>,
}

/// Pool sizes per account and the Zipf exponents they are drawn with.
const N_SESSIONS: usize = 4000;
const N_INSTANCES: usize = 600;

/// Generates records; see the module doc.
#[derive(Debug)]
pub(crate) struct Generator {
    config: GeneratorConfig,
    rng: StdRng,
    position: u64,
    actors: Vec<Option<Actor>>,
    accounts: Vec<AccountPools>,
    account_picker: Picker,
    region_picker: Picker,
    service_picker: Picker,
    call_pickers: Vec<Picker>,
    user_picker: Picker,
    session_picker: Picker,
    service_principal_picker: Picker,
    user_agent_picker: Picker,
    small_pool: Picker,
    medium_pool: Picker,
    instance_picker: Picker,
    ip_picker: Picker,
}

impl Generator {
    pub(crate) fn new(config: GeneratorConfig) -> Generator {
        let mut rng = StdRng::seed_from_u64(config.seed);
        let accounts = ACCOUNTS.iter().map(|(id, _)| AccountPools::new(id, &mut rng)).collect();
        Generator {
            rng,
            position: 0,
            actors: (0..N_ACTORS).map(|_| None).collect(),
            accounts,
            account_picker: Picker::new(ACCOUNTS.iter().map(|(_, w)| *w)),
            region_picker: Picker::new(REGIONS.iter().map(|(_, w)| *w)),
            service_picker: Picker::new(SERVICES.iter().map(|s| s.weight)),
            call_pickers: SERVICES.iter().map(|s| Picker::zipf(s.calls.len(), 1.2)).collect(),
            user_picker: Picker::zipf(USER_NAMES.len(), 1.1),
            session_picker: Picker::zipf(N_SESSIONS, 1.05),
            service_principal_picker: Picker::zipf(SERVICE_PRINCIPALS.len(), 1.0),
            user_agent_picker: Picker::zipf(USER_AGENTS.len(), 0.9),
            small_pool: Picker::zipf(40, 1.0),
            medium_pool: Picker::zipf(200, 1.0),
            instance_picker: Picker::zipf(N_INSTANCES, 1.0),
            ip_picker: Picker::zipf(300, 1.2),
            config,
        }
    }

    /// The next record's JSON text (one line, no trailing newline).
    pub(crate) fn next_record(&mut self) -> String {
        let time = self.next_time();
        // Activity comes in bursts: a session makes a run of calls from one place, mostly to one service.
        let slot = self.rng.random_range(0..N_ACTORS);
        let mut actor = match self.actors[slot].take() {
            Some(actor) if actor.remaining > 0 => actor,
            _ => self.new_actor(time),
        };
        actor.remaining -= 1;
        if self.rng.random::<f64>() >= SAME_SERVICE {
            actor.service_index = self.service_picker.pick(&mut self.rng);
        }
        let service_index = actor.service_index;
        let service = &SERVICES[service_index];
        let call = &service.calls[self.call_pickers[service_index].pick(&mut self.rng)];
        let region = if service.global { "us-east-1" } else { REGIONS[actor.region_index].0 };
        let account_index = actor.account_index;
        let mut record = Map::new();
        let identity = &actor.identity;
        let account = self.accounts[account_index].id;
        let is_service_event = identity.kind == IdentityKind::ServiceEvent;
        let short_service = service.source.trim_end_matches(".amazonaws.com");
        record.insert("eventVersion".into(), json!("1.09"));
        record.insert("userIdentity".into(), identity.json.clone());
        record.insert("eventTime".into(), json!(time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()));
        record.insert("eventSource".into(), json!(service.source));
        let event_name = if is_service_event { service_event_name(short_service) } else { call.name };
        record.insert("eventName".into(), json!(event_name));
        record.insert("awsRegion".into(), json!(region));
        let source_ip = actor.source_ip.clone();
        let user_agent = if call.family == ConsoleLogin && identity.service_principal.is_none() {
            USER_AGENTS[11].to_owned()
        } else {
            actor.user_agent.clone()
        };
        record.insert("sourceIPAddress".into(), json!(source_ip));
        record.insert("userAgent".into(), json!(user_agent));
        let failed = !is_service_event && self.rng.random::<f64>() < ERROR_RATE;
        let subject = self.subject(call.family, account_index, region);
        if failed {
            let (code, message) = self.error(call, short_service, &actor.identity.arn, &subject);
            record.insert("errorCode".into(), json!(code));
            record.insert("errorMessage".into(), json!(message));
        }
        if is_service_event {
            record.insert("requestParameters".into(), Value::Null);
            record.insert("responseElements".into(), Value::Null);
        } else {
            let request = self.request_parameters(call, &subject, region, account);
            let response = if failed { Value::Null } else { self.response_elements(call, &subject, region, time) };
            record.insert("requestParameters".into(), request);
            record.insert("responseElements".into(), response);
        }
        if service.source == "s3.amazonaws.com" {
            record.insert("additionalEventData".into(), self.s3_additional_data());
        } else if call.family == ConsoleLogin {
            record.insert(
                "additionalEventData".into(),
                json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No",
                       "MFAUsed": if self.rng.random::<f64>() < 0.8 { "Yes" } else { "No" }}),
            );
        }
        if !is_service_event {
            record.insert("requestID".into(), json!(self.request_id(service.source)));
        }
        record.insert("eventID".into(), json!(self.uuid()));
        record.insert("readOnly".into(), json!(call.read_only && !is_service_event));
        if let Some(resources) = self.resources(call.family, &subject, account, region) {
            record.insert("resources".into(), resources);
        }
        let event_type = match (is_service_event, call.family) {
            (true, _) => "AwsServiceEvent",
            (false, ConsoleLogin) => "AwsConsoleSignIn",
            _ => "AwsApiCall",
        };
        record.insert("eventType".into(), json!(event_type));
        record.insert("managementEvent".into(), json!(true));
        record.insert("recipientAccountId".into(), json!(account));
        if is_service_event {
            record.insert("sharedEventID".into(), json!(self.uuid()));
            record.insert("serviceEventDetails".into(), json!({"snapshotId": format!("snap-{}", self.hex(17))}));
        }
        record.insert("eventCategory".into(), json!("Management"));
        if actor.identity.from_console {
            record.insert("sessionCredentialFromConsole".into(), json!("true"));
        }
        if !is_service_event && actor.identity.service_principal.is_none() && call.family != ConsoleLogin {
            let host = match service.source {
                "s3.amazonaws.com" => match &subject {
                    Subject::Named(bucket) => format!("{bucket}.s3.{region}.amazonaws.com"),
                    _ => format!("s3.{region}.amazonaws.com"),
                },
                source if service.global => source.to_owned(),
                source => format!("{}.{region}.amazonaws.com", source.trim_end_matches(".amazonaws.com")),
            };
            record.insert(
                "tlsDetails".into(),
                json!({"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": host}),
            );
        }
        self.actors[slot] = Some(actor);
        Value::Object(record).to_string()
    }

    /// A new session: who, from where, with what, in which region, starting on which service.
    fn new_actor(&mut self, time: Timestamp) -> Actor {
        let account_index = self.account_picker.pick(&mut self.rng);
        let identity = self.identity(account_index, time);
        let (source_ip, user_agent) = match &identity.service_principal {
            Some(principal) => (principal.clone(), principal.clone()),
            None => (
                self.accounts[account_index].ips[self.ip_picker.pick(&mut self.rng)].clone(),
                USER_AGENTS[self.user_agent_picker.pick(&mut self.rng)].to_owned(),
            ),
        };
        // Exponentially distributed burst lengths.
        let remaining = 1 + (-(1.0 - self.rng.random::<f64>()).ln() * MEAN_BURST) as u32;
        Actor {
            account_index,
            identity,
            source_ip,
            user_agent,
            region_index: self.region_picker.pick(&mut self.rng),
            service_index: self.service_picker.pick(&mut self.rng),
            remaining,
        }
    }

    fn next_time(&mut self) -> Timestamp {
        let start = self.config.start.as_millisecond();
        let end = self.config.end.as_millisecond();
        let n = self.config.n_events.max(1);
        let span = (end - start).max(0);
        let base = start + ((span as i128 * self.position as i128) / n as i128) as i64;
        self.position += 1;
        let jitter = self.rng.random_range(-JITTER_SECONDS * 1000..=JITTER_SECONDS * 1000);
        let ms = (base + jitter).clamp(start, end);
        // Whole seconds, as CloudTrail writes them.
        Timestamp::from_millisecond(ms - ms.rem_euclid(1000)).unwrap_or(self.config.end)
    }

    fn identity(&mut self, account_index: usize, time: Timestamp) -> Identity {
        let x = self.rng.random::<f64>();
        let pools = &self.accounts[account_index];
        let account = pools.id;
        let creation = (time - jiff::SignedDuration::from_secs(self.rng.random_range(5..3600)))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        if x < 0.60 {
            let session = &pools.sessions[self.session_picker.pick(&mut self.rng)];
            let (role_index, session_name, key) = session;
            let role = ROLE_NAMES[*role_index];
            let role_id = &pools.role_ids[*role_index];
            let arn = format!("arn:aws:sts::{account}:assumed-role/{role}/{session_name}");
            let json = json!({
                "type": "AssumedRole",
                "principalId": format!("{role_id}:{session_name}"),
                "arn": arn,
                "accountId": account,
                "accessKeyId": key,
                "sessionContext": {
                    "sessionIssuer": {"type": "Role", "principalId": role_id,
                        "arn": format!("arn:aws:iam::{account}:role/{role}"), "accountId": account, "userName": role},
                    "webIdFederationData": {},
                    "attributes": {"creationDate": creation, "mfaAuthenticated": "false"}
                }
            });
            Identity { kind: IdentityKind::AssumedRole, arn, json, service_principal: None, from_console: false }
        } else if x < 0.87 {
            let index = self.user_picker.pick(&mut self.rng);
            let (user, long_key, console_key) = &pools.users[index];
            let from_console = self.rng.random::<f64>() < 0.15;
            let key = if from_console { console_key.clone() } else { long_key.clone() };
            let arn = format!("arn:aws:iam::{account}:user/{user}");
            let mut json = json!({
                "type": "IAMUser",
                "principalId": pools.user_ids[index],
                "arn": arn,
                "accountId": account,
                "accessKeyId": key,
                "userName": user,
            });
            if from_console && let Some(object) = json.as_object_mut() {
                object.insert(
                    "sessionContext".into(),
                    json!({"sessionIssuer": {}, "webIdFederationData": {},
                           "attributes": {"creationDate": creation, "mfaAuthenticated": "true"}}),
                );
            }
            Identity { kind: IdentityKind::IamUser, arn, json, service_principal: None, from_console }
        } else if x < 0.97 {
            let principal = SERVICE_PRINCIPALS[self.service_principal_picker.pick(&mut self.rng)];
            Identity {
                kind: IdentityKind::AwsService,
                arn: String::new(),
                json: json!({"type": "AWSService", "invokedBy": principal}),
                service_principal: Some(principal.to_owned()),
                from_console: false,
            }
        } else if x < 0.98 {
            let arn = format!("arn:aws:iam::{account}:root");
            Identity {
                kind: IdentityKind::Root,
                json: json!({
                    "type": "Root",
                    "principalId": account,
                    "arn": arn,
                    "accountId": account,
                    "accessKeyId": pools.root_key,
                    "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {},
                        "attributes": {"creationDate": creation, "mfaAuthenticated": "true"}}
                }),
                arn,
                service_principal: None,
                from_console: true,
            }
        } else {
            let principal = SERVICE_PRINCIPALS[self.service_principal_picker.pick(&mut self.rng)];
            Identity {
                kind: IdentityKind::ServiceEvent,
                arn: String::new(),
                json: json!({"accountId": account, "invokedBy": principal}),
                service_principal: Some(principal.to_owned()),
                from_console: false,
            }
        }
    }

    /// The named thing a call is about, if its family has one.
    fn subject(&mut self, family: Family, account_index: usize, region: &str) -> Subject {
        let pools = &self.accounts[account_index];
        let account = pools.id;
        let small = self.small_pool.pick(&mut self.rng);
        let medium = self.medium_pool.pick(&mut self.rng);
        let name = match family {
            Ec2Instance => pools.instances[self.instance_picker.pick(&mut self.rng)].clone(),
            Bucket => pools.buckets[medium % pools.buckets.len()].clone(),
            Key => pools.keys[small % pools.keys.len()].clone(),
            IamRole | AssumeRole => ROLE_NAMES[small % ROLE_NAMES.len()].to_owned(),
            IamUser => USER_NAMES[small % USER_NAMES.len()].to_owned(),
            Parameter => pools.parameters[medium % pools.parameters.len()].clone(),
            Secret => pools.secrets[medium % pools.secrets.len()].clone(),
            Function => pools.functions[medium % pools.functions.len()].clone(),
            LogGroup => pools.log_groups[medium % pools.log_groups.len()].clone(),
            Table => pools.tables[medium % pools.tables.len()].clone(),
            Trail => format!(
                "arn:aws:cloudtrail:{region}:{account}:trail/{}",
                ["org-trail", "security", "data-events"][small % 3]
            ),
            Topic => pools.topics[small % pools.topics.len()].clone(),
            Queue => pools.queues[small % pools.queues.len()].clone(),
            Stack => pools.stacks[small % pools.stacks.len()].clone(),
            Cluster => pools.clusters[small % pools.clusters.len()].clone(),
            Ec2Describe | AccountS3 | Caller | ConsoleLogin | List => return Subject::None,
        };
        Subject::Named(name)
    }

    fn request_parameters(&mut self, call: &Call, subject: &Subject, region: &str, account: &str) -> Value {
        let name = subject.name();
        match call.family {
            Ec2Describe => {
                let vpc = format!("vpc-{}", self.hex(17));
                match self.rng.random_range(0..3) {
                    0 => json!({"filterSet": {"items": [{"name": "vpc-id", "valueSet": {"items": [{"value": vpc}]}}]}}),
                    1 => json!({"maxResults": 1000, "filterSet": {}}),
                    _ => json!({"instancesSet": {"items": [{"instanceId": format!("i-{}", self.hex(17))}]},
                                "filterSet": {"items": [{"name": "instance-state-name",
                                    "valueSet": {"items": [{"value": "running"}, {"value": "pending"}]}}]}}),
                }
            }
            Ec2Instance if call.name == "RunInstances" => json!({
                "instancesSet": {"items": [{"imageId": format!("ami-{}", self.hex(17)), "minCount": 1, "maxCount": 1,
                    "keyName": "ops-2024"}]},
                "instanceType": INSTANCE_TYPES[self.rng.random_range(0..INSTANCE_TYPES.len())],
                "blockDeviceMapping": {}, "monitoring": {"enabled": false}, "disableApiTermination": false,
                "disableApiStop": false, "clientToken": self.uuid(),
                "subnetId": format!("subnet-{}", self.hex(17)),
                "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": [{"key": "Name", "value": name}]}]}
            }),
            Ec2Instance => json!({"instancesSet": {"items": [{"instanceId": name}]}}),
            Bucket => {
                let sub_resource = call.name.trim_start_matches("Get").trim_start_matches("Put").to_lowercase();
                let mut params = Map::new();
                params.insert(sub_resource, json!(""));
                params.insert("bucketName".into(), json!(name));
                params.insert("Host".into(), json!(format!("{name}.s3.{region}.amazonaws.com")));
                Value::Object(params)
            }
            AccountS3 => json!({"Host": format!("{account}.s3-control.{region}.amazonaws.com")}),
            Key => json!({"keyId": name, "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                          "encryptionContext": {"aws:ebs:id": format!("vol-{}", self.hex(17))}}),
            AssumeRole => json!({"roleArn": format!("arn:aws:iam::{account}:role/{name}"),
                                 "roleSessionName": format!("botocore-session-{}", self.rng.random_range(1_600_000_000u64..1_800_000_000)),
                                 "durationSeconds": 3600}),
            Caller | List | ConsoleLogin => Value::Null,
            IamRole => json!({"roleName": name}),
            IamUser => json!({"userName": name}),
            Parameter => json!({"name": name, "withDecryption": true}),
            Secret => json!({"secretId": name}),
            Function => json!({"functionName": name}),
            LogGroup => {
                json!({"logGroupName": name, "logStreamName": format!("{}/[$LATEST]{}", self.date(), self.hex(32))})
            }
            Table => json!({"tableName": name}),
            Trail => json!({"name": name}),
            Topic => json!({"topicArn": name}),
            Queue => json!({"queueUrl": format!("https://sqs.{region}.amazonaws.com/{account}/{name}"),
                            "attributeNames": ["All"]}),
            Stack => json!({"stackName": name}),
            Cluster => json!({"name": name}),
        }
    }

    fn response_elements(&mut self, call: &Call, subject: &Subject, region: &str, time: Timestamp) -> Value {
        match call.family {
            AssumeRole => {
                let expiration = (time + jiff::SignedDuration::from_hours(1)).strftime("%b %-d, %Y, %-I:%M:%S %p");
                json!({
                    "credentials": {"accessKeyId": access_key("ASIA", &mut self.rng),
                        "sessionToken": self.token(700), "expiration": expiration.to_string()},
                    "assumedRoleUser": {"assumedRoleId": format!("AROA{}:botocore-session", self.upper(17)),
                        "arn": format!("arn:aws:sts::{}:assumed-role/{}/botocore-session", "000000000000", subject.name())}
                })
            }
            Caller if call.name == "GetAuthorizationToken" => {
                json!({"authorizationData": [{"expiresAt": "HIDDEN_DUE_TO_SECURITY_REASONS",
                    "proxyEndpoint": format!("https://000000000000.dkr.ecr.{region}.amazonaws.com")}]})
            }
            ConsoleLogin => json!({"ConsoleLogin": "Success"}),
            _ if call.read_only => Value::Null,
            Ec2Instance if call.name == "RunInstances" => json!({
                "requestId": self.uuid(), "reservationId": format!("r-{}", self.hex(17)),
                "ownerId": "000000000000", "groupSet": {},
                "instancesSet": {"items": [{"instanceId": subject.name(), "imageId": format!("ami-{}", self.hex(17)),
                    "instanceState": {"code": 0, "name": "pending"}, "privateDnsName": format!("ip-10-0-{}-{}.ec2.internal",
                    self.rng.random_range(0..255), self.rng.random_range(0..255)), "amiLaunchIndex": 0, "productCodes": {},
                    "instanceType": "t3.medium", "launchTime": 1_700_000_000_000u64,
                    "placement": {"availabilityZone": format!("{region}a"), "tenancy": "default"},
                    "monitoring": {"state": "disabled"}, "subnetId": format!("subnet-{}", self.hex(17)),
                    "vpcId": format!("vpc-{}", self.hex(17)), "privateIpAddress": "10.0.12.34",
                    "sourceDestCheck": true, "architecture": "x86_64", "rootDeviceType": "ebs",
                    "rootDeviceName": "/dev/xvda", "virtualizationType": "hvm", "hypervisor": "xen",
                    "cpuOptions": {"coreCount": 1, "threadsPerCore": 2}, "capacityReservationSpecification":
                    {"capacityReservationPreference": "open"}, "enclaveOptions": {"enabled": false},
                    "metadataOptions": {"state": "pending", "httpTokens": "required", "httpPutResponseHopLimit": 2,
                    "httpEndpoint": "enabled"}}]}
            }),
            Ec2Instance => json!({"requestId": self.uuid(), "_return": true}),
            Parameter => json!({"version": self.rng.random_range(1..40), "tier": "Standard"}),
            Secret => json!({"arn": subject.name(), "name": subject.name(), "versionId": self.uuid()}),
            Function => json!({"functionName": subject.name(), "runtime": "python3.12", "codeSize": 18_234,
                               "lastModified": time.to_string(), "version": "$LATEST", "state": "Active"}),
            _ => Value::Null,
        }
    }

    fn resources(&mut self, family: Family, subject: &Subject, account: &str, region: &str) -> Option<Value> {
        let Subject::Named(name) = subject else { return None };
        let (kind, arn) = match family {
            Bucket => ("AWS::S3::Bucket", format!("arn:aws:s3:::{name}")),
            Key => ("AWS::KMS::Key", name.clone()),
            AssumeRole => ("AWS::IAM::Role", format!("arn:aws:iam::{account}:role/{name}")),
            Ec2Instance => ("AWS::EC2::Instance", format!("arn:aws:ec2:{region}:{account}:instance/{name}")),
            Table => ("AWS::DynamoDB::Table", format!("arn:aws:dynamodb:{region}:{account}:table/{name}")),
            Trail => ("AWS::CloudTrail::Trail", name.clone()),
            Topic => ("AWS::SNS::Topic", name.clone()),
            Parameter => ("", format!("arn:aws:ssm:{region}:{account}:parameter{name}")),
            _ => return None,
        };
        let mut resource = Map::new();
        resource.insert("accountId".into(), json!(account));
        if !kind.is_empty() {
            resource.insert("type".into(), json!(kind));
        }
        resource.insert("ARN".into(), json!(arn));
        Some(Value::Array(vec![Value::Object(resource)]))
    }

    fn error(&mut self, call: &Call, service: &str, arn: &str, subject: &Subject) -> (String, String) {
        let x = self.rng.random::<f64>();
        let target = match subject {
            Subject::Named(name) => name.as_str(),
            Subject::None => "*",
        };
        if x < 0.25 {
            return ("ThrottlingException".into(), "Rate exceeded".into());
        }
        match service {
            "ec2" if x < 0.7 => (
                "Client.UnauthorizedOperation".into(),
                format!(
                    "You are not authorized to perform this operation. Encoded authorization failure message: {}",
                    self.token(560)
                ),
            ),
            "ec2" => ("Client.InvalidInstanceID.NotFound".into(), format!("The instance ID '{target}' does not exist")),
            "s3" => {
                let codes = [
                    ("NoSuchBucketPolicy", "The bucket policy does not exist"),
                    ("NoSuchTagSet", "The TagSet does not exist"),
                    ("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found"),
                    ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
                    ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
                    ("AccessDenied", "Access Denied"),
                ];
                let (code, message) = codes[self.rng.random_range(0..codes.len())];
                (code.into(), message.into())
            }
            "iam" if x < 0.6 => (
                "NoSuchEntityException".into(),
                format!("The role with name {target} cannot be found."),
            ),
            _ if x < 0.8 && !arn.is_empty() => (
                "AccessDenied".into(),
                format!(
                    "User: {arn} is not authorized to perform: {service}:{name} on resource: {target} because no identity-based policy allows the {service}:{name} action",
                    name = call.name
                ),
            ),
            _ if x < 0.9 => ("ResourceNotFoundException".into(), format!("Resource {target} not found.")),
            _ => (
                "ValidationException".into(),
                "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
                    .into(),
            ),
        }
    }

    fn s3_additional_data(&mut self) -> Value {
        json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0,
               "AuthenticationMethod": "AuthHeader", "x-amz-id-2": self.token(76),
               "bytesTransferredOut": self.rng.random_range(100..2000)})
    }

    fn request_id(&mut self, source: &str) -> String {
        if source == "s3.amazonaws.com" { self.upper(16) } else { self.uuid() }
    }

    fn uuid(&mut self) -> String {
        let a: u128 = self.rng.random();
        let hex = format!("{a:032x}");
        format!("{}-{}-4{}-{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[16..20], &hex[20..32])
    }

    fn hex(&mut self, n: usize) -> String {
        let mut out = String::with_capacity(n);
        for _ in 0..n {
            let digit = self.rng.random_range(0..16u32);
            out.push(char::from_digit(digit, 16).unwrap_or('0'));
        }
        out
    }

    fn upper(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'A' + self.rng.random_range(0..26u8))).collect()
    }

    fn token(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..n).map(|_| char::from(ALPHABET[self.rng.random_range(0..ALPHABET.len())])).collect()
    }

    fn date(&mut self) -> String {
        let mut out = String::new();
        let _ = write!(out, "2026/{:02}/{:02}", self.rng.random_range(1..13), self.rng.random_range(1..29));
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdentityKind {
    AssumedRole,
    IamUser,
    AwsService,
    Root,
    /// An `AwsServiceEvent` record: `userIdentity` has no `type`.
    ServiceEvent,
}

/// One active session of the burst model.
#[derive(Debug)]
struct Actor {
    account_index: usize,
    identity: Identity,
    source_ip: String,
    user_agent: String,
    region_index: usize,
    service_index: usize,
    remaining: u32,
}

#[derive(Debug)]
struct Identity {
    kind: IdentityKind,
    arn: String,
    json: Value,
    service_principal: Option<String>,
    from_console: bool,
}

#[derive(Debug)]
enum Subject {
    None,
    Named(String),
}

impl Subject {
    fn name(&self) -> &str {
        match self {
            Subject::None => "",
            Subject::Named(name) => name,
        }
    }
}

fn service_event_name(service: &str) -> &'static str {
    match service {
        "ec2" => "SharedSnapshotVolumeCreated",
        "kms" => "RotateKey",
        "secretsmanager" => "RotationSucceeded",
        "s3" => "LifecycleExpiration",
        _ => "AWSHealthEvent",
    }
}

fn access_key(prefix: &str, rng: &mut StdRng) -> String {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut key = String::with_capacity(20);
    key.push_str(prefix);
    key.extend((0..16).map(|_| char::from(BASE32[rng.random_range(0..BASE32.len())])));
    key
}

fn ident(prefix: &str, rng: &mut StdRng) -> String {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut id = String::with_capacity(21);
    id.push_str(prefix);
    id.extend((0..17).map(|_| char::from(BASE32[rng.random_range(0..BASE32.len())])));
    id
}

impl AccountPools {
    fn new(id: &'static str, rng: &mut StdRng) -> AccountPools {
        let hex = |rng: &mut StdRng, n: usize| -> String {
            (0..n).map(|_| char::from_digit(rng.random_range(0..16u32), 16).unwrap_or('0')).collect()
        };
        let users =
            USER_NAMES.iter().map(|u| (u.to_string(), access_key("AKIA", rng), access_key("ASIA", rng))).collect();
        let user_ids = USER_NAMES.iter().map(|_| ident("AIDA", rng)).collect();
        let role_ids = ROLE_NAMES.iter().map(|_| ident("AROA", rng)).collect();
        let root_key = access_key("ASIA", rng);
        let role_picker = Picker::zipf(ROLE_NAMES.len(), 1.0);
        let sessions = (0..N_SESSIONS)
            .map(|i| {
                let role = role_picker.pick(rng);
                let name = match i % 4 {
                    0 => format!("i-{}", hex(rng, 17)),
                    1 => format!("botocore-session-{}", rng.random_range(1_600_000_000u64..1_800_000_000)),
                    2 => format!("{}@example.com", USER_NAMES[i % USER_NAMES.len()].replace('-', ".")),
                    _ => format!(
                        "aws-go-sdk-{}",
                        rng.random_range(1_600_000_000_000_000_000u64..1_800_000_000_000_000_000)
                    ),
                };
                (role, name, access_key("ASIA", rng))
            })
            .collect();
        let words = ["prod", "staging", "dev", "shared", "logs", "data", "ml", "web", "api", "etl"];
        let pick_word = |rng: &mut StdRng| words[rng.random_range(0..words.len())];
        let buckets = (0..200).map(|i| format!("{}-{}-{i}-{}", pick_word(rng), pick_word(rng), hex(rng, 6))).collect();
        let keys = (0..40).map(|_| format!("arn:aws:kms:us-east-1:{id}:key/{}", uuid_like(rng))).collect();
        let instances = (0..N_INSTANCES).map(|_| format!("i-{}", hex(rng, 17))).collect();
        let parameters = (0..200).map(|i| format!("/{}/{}/param-{i}", pick_word(rng), pick_word(rng))).collect();
        let secrets = (0..200)
            .map(|i| {
                format!(
                    "arn:aws:secretsmanager:us-east-1:{id}:secret:{}/{}-{i}-{}",
                    pick_word(rng),
                    pick_word(rng),
                    hex(rng, 6)
                )
            })
            .collect();
        let functions = (0..200).map(|i| format!("{}-{}-handler-{i}", pick_word(rng), pick_word(rng))).collect();
        let log_groups =
            (0..200).map(|i| format!("/aws/lambda/{}-{}-handler-{i}", pick_word(rng), pick_word(rng))).collect();
        let tables = (0..200).map(|i| format!("{}-{}-{i}", pick_word(rng), pick_word(rng))).collect();
        let topics = (0..40).map(|i| format!("arn:aws:sns:us-east-1:{id}:{}-alerts-{i}", pick_word(rng))).collect();
        let queues = (0..40).map(|i| format!("{}-{}-queue-{i}", pick_word(rng), pick_word(rng))).collect();
        let stacks = (0..40).map(|i| format!("{}-{}-stack-{i}", pick_word(rng), pick_word(rng))).collect();
        let clusters = (0..40).map(|i| format!("{}-cluster-{i}", pick_word(rng))).collect();
        let ips = (0..300)
            .map(|i| {
                if i % 3 == 0 {
                    format!("10.{}.{}.{}", rng.random_range(0..255), rng.random_range(0..255), rng.random_range(1..255))
                } else {
                    format!(
                        "{}.{}.{}.{}",
                        rng.random_range(3..223),
                        rng.random_range(0..255),
                        rng.random_range(0..255),
                        rng.random_range(1..255)
                    )
                }
            })
            .collect();
        AccountPools {
            id,
            users,
            sessions,
            role_ids,
            user_ids,
            root_key,
            buckets,
            keys,
            instances,
            parameters,
            secrets,
            functions,
            log_groups,
            tables,
            topics,
            queues,
            stacks,
            clusters,
            ips,
        }
    }
}

fn uuid_like(rng: &mut StdRng) -> String {
    let a: u128 = rng.random();
    let hex = format!("{a:032x}");
    format!("{}-{}-4{}-{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests;
