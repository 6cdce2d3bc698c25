package cli

// LongHelp is each command's description past its one line, printed by
// `access911 COMMAND --help` above its flags.
var LongHelp = map[string]string{
	"plan": `Run the real Pulumi program offline (Pulumi mocks, no AWS calls) with each stack's
Pulumi.<stack>.yaml and print what it would create.`,
	"preflight": `Before anything is touched, check what deploying needs, one line each (OK / WARN / FAIL with the
fix): credentials and one account in every region, each region's Lambda concurrency and API
Gateway request quota against what the stacks reserve and post, the Pulumi CLI and the aws
plugin go.mod pins, the hosted zone when DNS failover is on, and after a first deployment the
webhook and feed secrets. A FAIL exits 1.`,
	"up": `The preflight, then every region's stack through Pulumi's Automation API: the home region first,
then the others one at a time, each once the one before has its table or replica ACTIVE and
answers GET /v1/health. On a failure it stops, leaves the later regions untouched and prints the
command that resumes (--from). Without --yes, up shows each region's preview and asks before
applying it. There is no destroy (README).`,
	"cost": `Price every stack in four cases: a month on idle standby, a month at its own normal load, a
month after a failover, and an hour of the 10x spike; each line with its quantity, unit price
and the price's source (the embedded, dated price table; free tiers ignored). plan prints a
summary.`,
	"prices": `Print the price table's date and provenance, or with --refresh look every mapped item up in the
AWS Price List Query API (GetProducts, OnDemand), write the table with each price's SKU, offer
version and publication date as its source, and print what changed. An item it cannot find fails
the refresh and nothing is written.`,
	"demo": `The main job on the embedded default: start DynamoDB Local (installing it with npm if missing),
serve the API locally, run the seed's nashville_tornado simulation of 1000 calls, read them back
by type, print a summary and shut everything down.`,
	"serve": `[--feed-connections N] [--read-cache [--redis-addr HOST:PORT]] [--ready-json] [--cpuprofile
FILE] [--dir DIR] Serve the API on loopback against DynamoDB Local with the stack's throttling
(429 past burst/rate) and request validation, and the durable intake queue on moto's SQS with
its drainer, until Ctrl-C.`,
	"load": `[--target URL] [--out DIR] [--throttle-rate RPS] [--throttle-burst N] [--stack NAME] Load the
API (default: a local server on DynamoDB Local started for the run) with a realistic request
mix; bounded in count and time. SPEC is e.g. 100rps:10s,500rps:10s or 200u:10s. Writes load.csv,
load.json and load.png to --out (default perf/).`,
	"simulate": `POST /simulate once (the seed's curl) against --target, or against a local server on DynamoDB
Local started for the call, and print the result.`,
	"spike": `On the local stack with the durable intake (DynamoDB Local + moto's SQS), inject table
throttling or an outage, send a bounded spike of distinct calls (default 10x the stack's
failover load, one second's worth), wait for the intake queue to drain, and read every accepted
call back. Exits 1 if a call was lost or stored twice.`,
	"replay": `List the calls in the intake's dead-letter queue (a dry run: nothing moves) or, with --apply,
move them back to the intake queue, where the drain stores each once. The URLs are the stack
outputs intakeQueueUrl and intakeDlqUrl. Example: access911 replay --queue-url "$(pulumi stack
output intakeQueueUrl)" --dlq-url "$(pulumi stack output intakeDlqUrl)"`,
	"watch": `The dispatcher console: connect to the feed, optionally subscribe to some emergency types, and
print each call as it arrives with its delivery latency.`,
	"feed-bench": `Start serve in its own process, open N WebSocket connections to its feed, send M calls through
POST /calls (each once the previous reached everyone, or every --interval) and measure delivery
from each 201 to each receipt; exit 1 if any delivery is missing or duplicated.`,
	"feed-token": `Mint a dispatcher token for the feed, signed with $ACCESS911_FEED_SECRET (the value of the
stack's feedSecretArn secret; during a rotation the {"current","previous"} form, signed with
current). Dispatchers connect with wss://HOST/v1?token=TOKEN.`,
	"webhook-send": `[--target URL] [--conversation-id ID] [--audio-bytes N] [--stack NAME] Send one realistic
provider delivery, signed with $ELEVENLABS_WEBHOOK_SECRET as the provider signs it, to --target
(a stack's webhookUrl or apiUrl), or to a local server started for it (then the stored call is
printed).`,
	"drill": `[--rpo-bound 5s] [--outputs DIR] [--report-dir DIR] [--endpoint-url URL] Move the callers with
the failover control: a table write into the target region's replica, read by every region's
gate (no Route 53 call, nothing sent to the region being left). --to denies every region before
REGION in access911:failoverOrder; --evacuate denies one region (a gray failure); --rollback
undoes the last drill once the region has caught up. Preflight, RPO, readers, target and a
canary call (the RTO) are checked and reported. DIR/<stack>.json are the outputs of pulumi stack
output --json (default --outputs drill-outputs).`,
	"benchsummary": `Medians and ratios of a go test -bench output (make bench uses it).`,
	"artifact": `Build the Lambda deployment package (linux/arm64, reproducible) into dist/ and print its path,
size and SHA-256. pulumi up builds it too.`,
}
