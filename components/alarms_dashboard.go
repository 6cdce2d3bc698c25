package components

import (
	"encoding/json"

	"github.com/access911/access911-infra/contract"
)

// The alarms' dashboard and its widgets.

// metricWidget is one half-width dashboard graph of metrics (summed per
// AlarmPeriodSeconds unless a metric says otherwise) in region.
func metricWidget(region string, x, y int, title string, metrics [][]any) map[string]any {
	return map[string]any{
		"type": "metric", "x": x, "y": y, "width": 12, "height": 6,
		"properties": map[string]any{"title": title, "metrics": metrics, "period": AlarmPeriodSeconds,
			"stat": "Sum", "view": "timeSeries", "region": region},
	}
}

// DashboardBody is access911's dashboard: the seed's key metrics (request
// rate, response time, error rate, concurrency, DynamoDB throttles, queue
// depth), the provider webhook, and the intake queue when there is one.
func DashboardBody(region, apiName, stage, functionName, tableName, queueName, dlqName string) string {
	return dashboardBody(AlarmsArgs{Region: region, MetricNamespace: contract.Namespace, Service: contract.Service},
		apiName, stage, functionName, tableName, queueName, dlqName)
}

// dashboardBody has a widget for each group the alarms watch ("" leaves a
// group out), the app's metrics in its namespace.
func dashboardBody(a AlarmsArgs, apiName, stage, functionName, tableName, queueName, dlqName string) string {
	widget := func(x, y int, title string, metrics [][]any) map[string]any {
		return metricWidget(a.Region, x, y, title, metrics)
	}
	app := func(metric string, extra ...any) []any {
		return append([]any{a.MetricNamespace, metric, contract.ServiceDimension, a.Service}, extra...)
	}
	api := []any{"ApiName", apiName, "Stage", stage}
	var widgets []any
	if apiName != "" {
		widgets = append(widgets,
			widget(0, 0, "Request rate (requests/min)", [][]any{append([]any{"AWS/ApiGateway", "Count"}, api...)}),
			widget(12, 0, "Response time (ms)", [][]any{
				append(append([]any{"AWS/ApiGateway", "Latency"}, api...), map[string]string{"stat": "Average"}),
				append(append([]any{"AWS/ApiGateway", "Latency"}, api...), map[string]string{"stat": "p99"}),
			}),
			widget(0, 6, "Error rate (%)", [][]any{
				append(append([]any{"AWS/ApiGateway", "5XXError"}, api...), map[string]any{"id": "e", "visible": false}),
				append(append([]any{"AWS/ApiGateway", "Count"}, api...), map[string]any{"id": "n", "visible": false}),
				{map[string]string{"expression": "IF(n > 0, 100 * e / n, 0)", "label": "5XX %"}},
			}))
	}
	if functionName != "" {
		widgets = append(widgets, widget(12, 6, "Concurrent executions", [][]any{
			{"AWS/Lambda", "ConcurrentExecutions", "FunctionName", functionName, map[string]string{"stat": "Maximum"}},
			{"AWS/Lambda", "Throttles", "FunctionName", functionName},
		}))
	}
	if tableName != "" {
		throttles := [][]any{
			{"AWS/DynamoDB", "ReadThrottleEvents", "TableName", tableName},
			{"AWS/DynamoDB", "WriteThrottleEvents", "TableName", tableName},
		}
		for _, ix := range a.indexes() {
			throttles = append(throttles, []any{"AWS/DynamoDB", "WriteThrottleEvents", "TableName", tableName, "GlobalSecondaryIndexName", ix})
		}
		widgets = append(widgets, widget(0, 12, "DynamoDB throttles", throttles))
	}
	if !a.NoAppMetrics {
		widgets = append(widgets,
			widget(12, 12, "Queue depth", [][]any{app(contract.QueueDepth, map[string]string{"stat": "Maximum"}), app(contract.CallsWritten)}),
			widget(0, 18, "Provider webhook deliveries", [][]any{app(contract.WebhookDeliveries), app(contract.WebhookRejected)}))
	}
	if queueName != "" {
		widgets = append(widgets,
			widget(12, 18, "Intake queue", [][]any{
				{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queueName, map[string]string{"stat": "Maximum"}},
				{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlqName, map[string]string{"stat": "Maximum", "label": "dead letters"}},
				app(contract.CallsQueued), app(contract.CallsDrained),
			}),
			widget(0, 24, "Oldest queued call (s)", [][]any{
				{"AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queueName, map[string]string{"stat": "Maximum"}},
			}))
	}
	b, _ := json.Marshal(map[string]any{"widgets": widgets})
	return string(b)
}
