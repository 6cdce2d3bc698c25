package components

import (
	"fmt"
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/contract"
)

// ReadCacheType is the Pulumi type token of the ReadCache component.
const ReadCacheType = "access911:components:ReadCache"

// Read cache defaults. The engine and its port are ElastiCache Serverless
// for Valkey's; the network is the component's own and private.
const (
	ReadCacheEngine             = "valkey"
	ReadCacheMajorEngineVersion = "8"
	// ReadCachePort is the serverless cache's endpoint port and
	// ReadCacheReaderPort its reader endpoint's, which the ElastiCache user
	// guide's serverless set-up asks the cache's security group to allow
	// ("6379 and 6380"; not re-read here: the library has no copy). Both are
	// allowed, from the functions' group only.
	ReadCachePort       = 6379
	ReadCacheReaderPort = 6380
	// ReadCacheVPCCIDR is the cache's VPC; each subnet is the n-th /20 in it.
	ReadCacheVPCCIDR = "10.91.0.0/16"
)

// readCacheSubnet is the VPC's i-th /20 (10.91.0.0/20, 10.91.16.0/20, ...).
func readCacheSubnet(i int) string {
	vpc := netip.MustParsePrefix(ReadCacheVPCCIDR).Addr().As4()
	vpc[2] += byte(16 * i)
	return netip.PrefixFrom(netip.AddrFrom4(vpc), 20).String()
}

// ReadCacheArgs configures the read cache.
type ReadCacheArgs struct {
	// Code and CodeHash: the project's deployment package.
	Code     pulumi.Archive `pulumi:"code"`
	CodeHash string         `pulumi:"codeHash"`
	// CodeObject, instead of Code, is the package as an S3 object in the
	// function's region (a release pipeline's upload); CodeHash is still
	// its base64 SHA-256.
	CodeObject *CodeObject `pulumi:"codeObject"`
	// AvailabilityZoneIDs (use1-az1, ...): at least two, a private subnet
	// in each of the first two. IDs, not names: a name maps to a different
	// zone in each account (EC2 user guide, "AZ IDs").
	AvailabilityZoneIDs []string `pulumi:"availabilityZoneIds"`
	// DynamoDBServiceName is the region's DynamoDB gateway endpoint service
	// (com.amazonaws.<region>.dynamodb).
	DynamoDBServiceName string `pulumi:"dynamoDbServiceName"`
	// The calls table. Its stream reaches the cache through the feed's
	// swarm, the stream's one reader, which invokes the invalidator.
	TableName        pulumi.StringInput `pulumi:"tableName"`
	TableArn         pulumi.StringInput `pulumi:"tableArn"`
	TTLSeconds       int                `pulumi:"ttlSeconds"`
	QueryTTLSeconds  int                `pulumi:"queryTtlSeconds"`
	MaxECPUPerSecond int                `pulumi:"maxEcpuPerSecond"`
	MaxDataGB        int                `pulumi:"maxDataGb"`
	MemoryMB         int                `pulumi:"memoryMb"`
	TimeoutSeconds   int                `pulumi:"timeoutSeconds"`
	LogRetentionDays int                `pulumi:"logRetentionDays"`
	AllowOrigin      string             `pulumi:"allowOrigin"`
	Tags             pulumi.StringMap   `pulumi:"tags"`
	// App names the application in descriptions and Name tags (default
	// contract.Service, "access911").
	App string `pulumi:"app"`
}

func (a *ReadCacheArgs) validate() error {
	switch {
	case codeMissing(a.Code, a.CodeObject, a.CodeHash) != nil:
		return codeMissing(a.Code, a.CodeObject, a.CodeHash)
	case len(a.AvailabilityZoneIDs) < 2:
		return fmt.Errorf("%d availability zones: a subnet in each of at least two is required", len(a.AvailabilityZoneIDs))
	case a.DynamoDBServiceName == "":
		return fmt.Errorf("the DynamoDB gateway endpoint's service name is required")
	case a.TableName == nil || a.TableArn == nil:
		return fmt.Errorf("the calls table is required")
	case a.MaxECPUPerSecond < capacity.ServerlessCacheMinECPU || a.MaxECPUPerSecond > capacity.ServerlessCacheMaxECPU:
		return fmt.Errorf("ECPU limit %d/s is outside ElastiCache Serverless's %d-%d", a.MaxECPUPerSecond, capacity.ServerlessCacheMinECPU, capacity.ServerlessCacheMaxECPU)
	case a.MaxDataGB < 1 || a.MaxDataGB > capacity.ServerlessCacheMaxDataGB:
		return fmt.Errorf("data limit %d GB is outside ElastiCache Serverless's 1-%d GB", a.MaxDataGB, capacity.ServerlessCacheMaxDataGB)
	case a.TTLSeconds < 1 || a.QueryTTLSeconds < 1:
		return fmt.Errorf("the TTLs must be positive")
	}
	return nil
}

// ReadCache is a private network, a serverless Valkey cache, the reader
// function that serves the API's GET routes through it, and the invalidator
// that keeps it current from the calls table's stream.
type ReadCache struct {
	pulumi.ResourceState

	CacheEndpoint       pulumi.StringOutput `pulumi:"cacheEndpoint"`
	ReaderFunction      pulumi.StringOutput `pulumi:"readerFunctionName"`
	InvalidatorFunction pulumi.StringOutput `pulumi:"invalidatorFunctionName"`
	// InvalidatorArn is what the swarm invokes with each stream batch.
	InvalidatorArn pulumi.StringOutput `pulumi:"invalidatorFunctionArn"`
	// Reader serves GET /calls and GET /calls/{id} (the API integrates it).
	Reader *Function
}

type readCacheBuilder struct {
	ctx    *pulumi.Context
	name   string
	args   *ReadCacheArgs
	parent pulumi.ResourceOption

	subnets         pulumi.StringArray
	functionSG      *ec2.SecurityGroup
	cacheSG         *ec2.SecurityGroup
	cache           *elasticache.ServerlessCache
	endpoint        pulumi.StringOutput
	reader, invalid registeredLambda
}

// NewReadCache registers the read cache (access911:readCache valkey).
func NewReadCache(ctx *pulumi.Context, name string, args *ReadCacheArgs, opts ...pulumi.ResourceOption) (*ReadCache, error) {
	if args == nil {
		args = &ReadCacheArgs{}
	}
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("read cache %q: %w", name, err)
	}
	c := &ReadCache{}
	if err := ctx.RegisterComponentResource(ReadCacheType, name, c, opts...); err != nil {
		return nil, err
	}
	b := &readCacheBuilder{ctx: ctx, name: name, args: args, parent: pulumi.Parent(c)}
	for _, step := range []func() error{b.network, b.securityGroups, b.serverlessCache, b.functions} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("read cache %q: %w", name, err)
		}
	}
	c.CacheEndpoint = b.endpoint
	c.ReaderFunction = b.reader.function.Name
	c.InvalidatorFunction, c.InvalidatorArn = b.invalid.function.Name, b.invalid.function.Arn
	c.Reader = &Function{FunctionName: b.reader.function.Name, FunctionArn: b.reader.function.Arn,
		InvokeArn: b.reader.function.InvokeArn, RoleArn: b.reader.role.Arn, LogGroupName: b.reader.logGroup.Name, Lambda: b.reader.function}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"cacheEndpoint": c.CacheEndpoint,
		"readerFunctionName": c.ReaderFunction, "invalidatorFunctionName": c.InvalidatorFunction,
		"invalidatorFunctionArn": c.InvalidatorArn}); err != nil {
		return nil, err
	}
	return c, nil
}

// network: a VPC with a private subnet in each of two zones, one route
// table with no route out but the DynamoDB gateway endpoint (no NAT, no
// internet gateway). The security groups are declared without inline
// rules: AWS gives a new group an allow-all egress rule, which the
// provider revokes when it creates the group (pulumi-aws / Terraform
// aws_security_group, "NOTE on Egress rules"), so the only egress is the
// rules registered here.
func (b *readCacheBuilder) network() error {
	a := b.args
	v, err := ec2.NewVpc(b.ctx, b.name, &ec2.VpcArgs{CidrBlock: pulumi.String(ReadCacheVPCCIDR),
		EnableDnsSupport: pulumi.Bool(true), EnableDnsHostnames: pulumi.Bool(true), Tags: a.Tags}, b.parent)
	if err != nil {
		return fmt.Errorf("vpc: %w", err)
	}
	routes, err := ec2.NewRouteTable(b.ctx, b.name, &ec2.RouteTableArgs{VpcId: v.ID(), Tags: a.Tags}, b.parent)
	if err != nil {
		return fmt.Errorf("route table: %w", err)
	}
	for i, az := range a.AvailabilityZoneIDs[:2] {
		sub, err := ec2.NewSubnet(b.ctx, fmt.Sprintf("%s-%d", b.name, i+1), &ec2.SubnetArgs{VpcId: v.ID(),
			CidrBlock: pulumi.String(readCacheSubnet(i)), AvailabilityZoneId: pulumi.String(az),
			MapPublicIpOnLaunch: pulumi.Bool(false), Tags: a.Tags}, b.parent)
		if err != nil {
			return fmt.Errorf("subnet %s: %w", az, err)
		}
		if _, err := ec2.NewRouteTableAssociation(b.ctx, fmt.Sprintf("%s-%d", b.name, i+1), &ec2.RouteTableAssociationArgs{
			SubnetId: sub.ID(), RouteTableId: routes.ID()}, b.parent); err != nil {
			return fmt.Errorf("route table association: %w", err)
		}
		b.subnets = append(b.subnets, sub.ID())
	}
	endpoint, err := ec2.NewVpcEndpoint(b.ctx, b.name+"-dynamodb", &ec2.VpcEndpointArgs{VpcId: v.ID(),
		ServiceName: pulumi.String(a.DynamoDBServiceName), VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds: pulumi.StringArray{routes.ID()}, Tags: a.Tags,
		Policy: pulumi.All(a.TableArn).ApplyT(func(v []any) string { return ReadCacheEndpointPolicy(v[0].(string)).JSON() }).(pulumi.StringOutput),
	}, b.parent)
	if err != nil {
		return fmt.Errorf("dynamodb endpoint: %w", err)
	}
	b.functionSG, err = ec2.NewSecurityGroup(b.ctx, b.name+"-functions", &ec2.SecurityGroupArgs{VpcId: v.ID(),
		Description: pulumi.String(appName(a.App) + " read cache functions: out to the cache and DynamoDB only"), Tags: a.Tags}, b.parent)
	if err != nil {
		return fmt.Errorf("function security group: %w", err)
	}
	_, err = vpc.NewSecurityGroupEgressRule(b.ctx, b.name+"-functions-dynamodb", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: b.functionSG.ID(), IpProtocol: pulumi.String("tcp"), FromPort: pulumi.Int(443), ToPort: pulumi.Int(443),
		PrefixListId: endpoint.PrefixListId, Description: pulumi.String("DynamoDB through the gateway endpoint")}, b.parent)
	return err
}

// securityGroups: the cache takes connections from the functions' group
// only, on its two ports, and the functions may reach it there.
func (b *readCacheBuilder) securityGroups() error {
	var err error
	vpcID := b.functionSG.VpcId
	if b.cacheSG, err = ec2.NewSecurityGroup(b.ctx, b.name+"-cache", &ec2.SecurityGroupArgs{VpcId: vpcID,
		Description: pulumi.String(appName(b.args.App) + " read cache: from its functions only"), Tags: b.args.Tags}, b.parent); err != nil {
		return fmt.Errorf("cache security group: %w", err)
	}
	if _, err := vpc.NewSecurityGroupIngressRule(b.ctx, b.name+"-cache-from-functions", &vpc.SecurityGroupIngressRuleArgs{
		SecurityGroupId: b.cacheSG.ID(), ReferencedSecurityGroupId: b.functionSG.ID(), IpProtocol: pulumi.String("tcp"),
		FromPort: pulumi.Int(ReadCachePort), ToPort: pulumi.Int(ReadCacheReaderPort), Description: pulumi.String("the read cache's functions")}, b.parent); err != nil {
		return fmt.Errorf("cache ingress: %w", err)
	}
	if _, err := vpc.NewSecurityGroupEgressRule(b.ctx, b.name+"-functions-cache", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: b.functionSG.ID(), ReferencedSecurityGroupId: b.cacheSG.ID(), IpProtocol: pulumi.String("tcp"),
		FromPort: pulumi.Int(ReadCachePort), ToPort: pulumi.Int(ReadCacheReaderPort), Description: pulumi.String("the read cache")}, b.parent); err != nil {
		return fmt.Errorf("function egress: %w", err)
	}
	return nil
}

// serverlessCache: Valkey, encrypted at rest (always, for serverless) and
// in transit (TLS only), in the private subnets, within the usage limits.
func (b *readCacheBuilder) serverlessCache() error {
	a := b.args
	var err error
	b.cache, err = elasticache.NewServerlessCache(b.ctx, b.name, &elasticache.ServerlessCacheArgs{
		Engine: pulumi.String(ReadCacheEngine), MajorEngineVersion: pulumi.String(ReadCacheMajorEngineVersion),
		Description:      pulumi.String(appName(a.App) + " read cache: calls read by GET /calls, kept current by the table's stream"),
		SubnetIds:        b.subnets,
		SecurityGroupIds: pulumi.StringArray{b.cacheSG.ID()},
		CacheUsageLimits: elasticache.ServerlessCacheCacheUsageLimitsArgs{
			DataStorage: elasticache.ServerlessCacheCacheUsageLimitsDataStorageArgs{Maximum: pulumi.Int(a.MaxDataGB), Unit: pulumi.String("GB")},
			EcpuPerSeconds: elasticache.ServerlessCacheCacheUsageLimitsEcpuPerSecondArray{
				elasticache.ServerlessCacheCacheUsageLimitsEcpuPerSecondArgs{Maximum: pulumi.Int(a.MaxECPUPerSecond)}},
		},
		// A cache of what the table holds: nothing to restore from a snapshot.
		SnapshotRetentionLimit: pulumi.Int(0),
		Tags:                   a.Tags,
	}, b.parent)
	if err != nil {
		return fmt.Errorf("serverless cache: %w", err)
	}
	b.endpoint = b.cache.Endpoints.ApplyT(func(es []elasticache.ServerlessCacheEndpoint) string {
		if len(es) == 0 {
			return "" // known once the cache exists
		}
		return fmt.Sprintf("%s:%d", es[0].Address, es[0].Port)
	}).(pulumi.StringOutput)
	return nil
}

// functions: the reader (the API's GET routes) and the invalidator (the
// stream), the project's artifact each, in the private subnets.
func (b *readCacheBuilder) functions() error {
	a := b.args
	net := &lambda.FunctionVpcConfigArgs{SubnetIds: b.subnets, SecurityGroupIds: pulumi.StringArray{b.functionSG.ID()}}
	env := pulumi.StringMap{
		contract.EnvReadCacheEndpoint: b.endpoint,
		contract.EnvReadCacheTTL:      pulumi.String(fmt.Sprint(a.TTLSeconds)),
		contract.EnvReadCacheQueryTTL: pulumi.String(fmt.Sprint(a.QueryTTLSeconds)),
	}
	readerEnv := pulumi.StringMap{contract.EnvCallsTable: a.TableName, contract.EnvCORSAllowOrigin: pulumi.String(a.AllowOrigin)}
	invalidatorEnv := pulumi.StringMap{contract.EnvReadCacheRole: pulumi.String(contract.ReadCacheInvalidator)}
	for k, v := range env {
		readerEnv[k], invalidatorEnv[k] = v, v
	}
	resources := pulumi.All(a.TableArn)
	for _, f := range []struct {
		role, description string
		env               pulumi.StringMap
		into              *registeredLambda
	}{
		{ReadCacheRoleReader, appName(a.App) + " read cache: GET /calls and /calls/{id} through the cache", readerEnv, &b.reader},
		{contract.ReadCacheInvalidator, appName(a.App) + " read cache: the calls table's stream into the cache", invalidatorEnv, &b.invalid},
	} {
		role := f.role
		fn, err := registerLambda(b.ctx, b.name+"-"+role, lambdaSpec{app: a.App,
			description: f.description, roleNote: appName(a.App) + " read cache " + role + " Lambda",
			code: a.Code, object: a.CodeObject, codeHash: a.CodeHash, memoryMB: a.MemoryMB, timeoutSeconds: a.TimeoutSeconds,
			logRetentionDays: a.LogRetentionDays, env: f.env, tags: a.Tags, vpc: net,
			policy: func(logGroupArn pulumi.StringOutput) pulumi.StringOutput {
				return pulumi.All(resources, logGroupArn).ApplyT(func(v []any) string {
					r := v[0].([]any)
					return ReadCachePolicy(role, ReadCachePolicyResources{Table: r[0].(string), LogGroup: v[1].(string)}).JSON()
				}).(pulumi.StringOutput)
			},
		}, b.parent)
		if err != nil {
			return fmt.Errorf("%s: %w", role, err)
		}
		*f.into = fn
	}
	return nil
}

// ReadCacheRoleReader names the reader function.
const ReadCacheRoleReader = "reader"

// ReadCachePolicyResources are the ARNs the read cache's functions use.
type ReadCachePolicyResources struct {
	Table, LogGroup string
}

// ReadCacheDynamoDBActions are the reader's reads, nothing else: the
// writes stay outside the VPC, with the intake function.
var ReadCacheDynamoDBActions = []string{"dynamodb:GetItem", "dynamodb:Query"}

// vpcNetworkActions are what Lambda needs of a function's role to attach
// it to its subnets: the AWS managed policy AWSLambdaVPCAccessExecutionRole's
// EC2 actions (AWS managed policy reference; Lambda developer guide,
// configuration-vpc: "ec2:DescribeNetworkInterfaces – This action only
// works if it's allowed on all resources"), hence "*"; no action is a
// wildcard.
var vpcNetworkActions = []string{"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
	"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}

// ReadCachePolicy is a read cache function's role policy: the reader reads
// the table and its index; the invalidator needs nothing of AWS (the swarm
// invokes it with each batch, and it writes to the cache); both attach to
// the VPC, write their own logs and trace.
func ReadCachePolicy(role string, r ReadCachePolicyResources) PolicyDocument {
	var st []PolicyStatement
	switch role {
	case ReadCacheRoleReader:
		st = []PolicyStatement{{Sid: "ReadCalls", Effect: "Allow", Action: ReadCacheDynamoDBActions,
			Resource: []string{r.Table, r.Table + "/index/" + contract.EmergencyTypeIndex}}}
	}
	st = append(st,
		PolicyStatement{Sid: "AttachToVPC", Effect: "Allow", Action: vpcNetworkActions, Resource: []string{"*"}},
		PolicyStatement{Sid: "OwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{r.LogGroup + ":*"}},
		tracingStatement)
	return PolicyDocument{Version: policyVersion, Statement: st}
}

// ReadCacheEndpointPolicy limits the DynamoDB gateway endpoint to the
// reader's reads of the calls table: nothing else leaves the VPC (VPC
// user guide, gateway endpoints for DynamoDB: an endpoint policy controls
// which principals, actions and tables the endpoint reaches; the roles
// still need their own permissions).
func ReadCacheEndpointPolicy(tableArn string) PolicyDocument {
	return PolicyDocument{Version: policyVersion, Statement: []PolicyStatement{{
		Sid: "ReadCallsOnly", Effect: "Allow", Principal: "*", Action: ReadCacheDynamoDBActions,
		Resource: []string{tableArn, tableArn + "/index/" + contract.EmergencyTypeIndex},
	}}}
}
