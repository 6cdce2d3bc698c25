package components

import (
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// CodeObject is a Lambda deployment package already in S3: the bucket must
// be in the function's region (Lambda developer guide, "Deploying Go
// Lambda functions with .zip file archives"; CreateFunction's S3Bucket).
type CodeObject struct {
	Bucket pulumi.StringInput `pulumi:"bucket"`
	Key    pulumi.StringInput `pulumi:"key"`
	// Version is the object's version (a versioned bucket); nil: latest.
	Version pulumi.StringInput `pulumi:"version"`
}

// codeMissing says what is wrong with a function's code arguments: exactly
// one of a package and an S3 object, with the package's hash.
func codeMissing(code pulumi.Archive, object *CodeObject, hash string) error {
	switch {
	case code != nil && object != nil:
		return errors.New("Code and CodeObject are both set: give the package one way")
	case code == nil && (object == nil || object.Bucket == nil || object.Key == nil):
		return errors.New("a deployment package (Code, or CodeObject's Bucket and Key) and its hash are required")
	case hash == "":
		return errors.New("a deployment package and its hash are required: CodeHash is empty")
	}
	return nil
}

func (o *CodeObject) bucket() pulumi.StringPtrInput {
	if o == nil {
		return nil
	}
	return o.Bucket.ToStringOutput().ToStringPtrOutput()
}

func (o *CodeObject) key() pulumi.StringPtrInput {
	if o == nil {
		return nil
	}
	return o.Key.ToStringOutput().ToStringPtrOutput()
}

func (o *CodeObject) version() pulumi.StringPtrInput {
	if o == nil || o.Version == nil {
		return nil
	}
	return o.Version.ToStringOutput().ToStringPtrOutput()
}
