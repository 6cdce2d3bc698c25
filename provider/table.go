package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/components"
	"github.com/access911/access911-infra/contract"
)

// CallsTableArgs are components.CallsTableArgs as plain values.
type CallsTableArgs struct {
	Name string `pulumi:"name"`
	// BillingMode is PAY_PER_REQUEST (the default) or PROVISIONED, with the
	// read and write capacity and, optionally, autoscaling.
	BillingMode   string       `pulumi:"billingMode,optional"`
	ReadCapacity  int          `pulumi:"readCapacity,optional"`
	WriteCapacity int          `pulumi:"writeCapacity,optional"`
	Autoscaling   *Autoscaling `pulumi:"autoscaling,optional"`
	// HashKey, RangeKey and Indexes are the key schema; without HashKey it
	// is access911's (conversation_id / timestamp, the emergency-type index).
	HashKey        *KeyAttribute      `pulumi:"hashKey,optional"`
	RangeKey       *KeyAttribute      `pulumi:"rangeKey,optional"`
	Indexes        []TableIndex       `pulumi:"indexes,optional"`
	TTLAttribute   string             `pulumi:"ttlAttribute,optional"`
	GlobalTableArn pulumi.StringInput `pulumi:"globalTableArn,optional"`
	AllowDestroy   bool               `pulumi:"allowDestroy,optional"`
	Tags           map[string]string  `pulumi:"tags,optional"`
}

// Autoscaling is a provisioned table's target tracking.
type Autoscaling struct {
	Min           int     `pulumi:"min"`
	Max           int     `pulumi:"max"`
	TargetPercent float64 `pulumi:"targetPercent"`
}

// KeyAttribute is a key's name and DynamoDB type (S, N or B).
type KeyAttribute struct {
	Name string `pulumi:"name"`
	Type string `pulumi:"type"`
}

// TableIndex is a global secondary index.
type TableIndex struct {
	Name     string        `pulumi:"name"`
	HashKey  KeyAttribute  `pulumi:"hashKey"`
	RangeKey *KeyAttribute `pulumi:"rangeKey,optional"`
}

func (k *KeyAttribute) attribute() contract.KeyAttribute {
	if k == nil {
		return contract.KeyAttribute{}
	}
	return contract.KeyAttribute{Name: k.Name, Type: k.Type}
}

// NewCallsTable constructs components.CallsTable from plain arguments.
func NewCallsTable(ctx *pulumi.Context, name string, args CallsTableArgs, opts ...pulumi.ResourceOption) (*components.CallsTable, error) {
	billing := capacity.Billing{Mode: args.BillingMode, ReadCapacity: args.ReadCapacity, WriteCapacity: args.WriteCapacity}
	if billing.Mode == "" {
		billing.Mode = capacity.PayPerRequest
	}
	if a := args.Autoscaling; a != nil {
		billing.Autoscaling = &capacity.Autoscaling{Min: a.Min, Max: a.Max, TargetPercent: a.TargetPercent}
	}
	in := &components.CallsTableArgs{Name: args.Name, Billing: billing, TTLAttribute: args.TTLAttribute,
		GlobalTableArn: args.GlobalTableArn, AllowDestroy: args.AllowDestroy, Tags: pulumi.ToStringMap(args.Tags)}
	if args.HashKey != nil {
		keys := &components.TableKeys{Hash: args.HashKey.attribute(), Range: args.RangeKey.attribute()}
		for _, ix := range args.Indexes {
			keys.Indexes = append(keys.Indexes, components.TableIndex{Name: ix.Name, Hash: ix.HashKey.attribute(), Range: ix.RangeKey.attribute()})
		}
		in.Keys = keys
	}
	return components.NewCallsTable(ctx, name, in, opts...)
}
