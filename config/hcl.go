package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// loadHCL reads kazzle.hcl, the configuration for projects without TypeScript: the
// same model as kazzle.config.ts, in HCL's naming, with env as a variable:
//
//	collection = "my-saas"
//	component "api" {
//	  kind    = "process"
//	  secrets = ["DATABASE_URL"]
//	  deploy { aws { lambda { function_name = "my-saas-api-${env}" } } }
//	}
//
// Syntax and structure problems are HCL's own diagnostics; validation messages are
// located at the attribute (or list element) they are about.
func loadHCL(dir, file, env string) (Project, []Message, error) {
	src, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return Project{}, nil, err
	}
	d := &hclDecoder{
		ctx:    &hcl.EvalContext{Variables: map[string]cty.Value{"env": cty.StringVal(env)}},
		ranges: map[string]hcl.Range{},
	}
	f, diags := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	if diags.HasErrors() {
		return Project{}, diagMessages(diags), nil
	}
	p := d.project(f.Body)
	if len(d.diags) > 0 {
		return Project{}, diagMessages(d.diags), nil
	}
	msgs := p.validate()
	for i := range msgs {
		if r, ok := d.rangeOf(msgs[i].Path); ok {
			msgs[i].File, msgs[i].Line, msgs[i].Column = r.Filename, r.Start.Line, r.Start.Column
		}
	}
	return p, msgs, nil
}

func diagMessages(diags hcl.Diagnostics) []Message {
	var msgs []Message
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		m := Message{Text: d.Summary}
		if d.Detail != "" {
			m.Text += ": " + strings.TrimSuffix(d.Detail, ".")
		}
		if d.Subject != nil {
			m.File, m.Line, m.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		msgs = append(msgs, m)
	}
	return msgs
}

type hclDecoder struct {
	ctx    *hcl.EvalContext
	diags  hcl.Diagnostics
	ranges map[string]hcl.Range // a value's path, in the TypeScript form's naming → where
}

// rangeOf finds where path was written, or failing that, its closest parent.
func (d *hclDecoder) rangeOf(path string) (hcl.Range, bool) {
	for path != "" {
		if r, ok := d.ranges[path]; ok {
			return r, true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return hcl.Range{}, false
}

func (d *hclDecoder) content(body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	c, diags := body.Content(schema)
	d.diags = append(d.diags, diags...)
	return c
}

func (d *hclDecoder) project(body hcl.Body) Project {
	var p Project
	c := d.content(body, &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "collection"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "component", LabelNames: []string{"name"}}},
	})
	if c == nil {
		return p
	}
	if a, ok := c.Attributes["collection"]; ok {
		p.Collection = d.str(a, "collection")
	}
	p.Components = map[string]Component{}
	first := map[string]*hcl.Block{}
	for _, b := range c.Blocks {
		name := b.Labels[0]
		if prev, dup := first[name]; dup {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate component",
				Detail: fmt.Sprintf("component %q is already declared at %s", name, prev.DefRange), Subject: b.DefRange.Ptr()})
			continue
		}
		first[name] = b
		at := "components." + name
		d.ranges[at] = b.LabelRanges[0]
		p.Components[name] = d.component(b.Body, at)
	}
	return p
}

func (d *hclDecoder) component(body hcl.Body, at string) Component {
	c := Component{Secrets: []string{}}
	content := d.content(body, &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "kind"}, {Name: "secrets"}, {Name: "entry"}, {Name: "out_dir"}, {Name: "base"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "deploy"}, {Type: "leak_scan"}},
	})
	if content == nil {
		return c
	}
	attrs := content.Attributes
	if a, ok := attrs["kind"]; ok {
		c.Kind = Kind(d.str(a, at+".kind"))
	}
	if a, ok := attrs["secrets"]; ok {
		c.Secrets = d.strList(a, at+".secrets")
	}
	if a, ok := attrs["entry"]; ok {
		c.Entry = d.str(a, at+".entry")
	}
	if a, ok := attrs["out_dir"]; ok {
		c.OutDir = d.str(a, at+".outDir")
	}
	if a, ok := attrs["base"]; ok {
		c.Base = d.str(a, at+".base")
	}
	for _, b := range d.single(content.Blocks, "leak_scan") {
		c.LeakScan = &LeakScan{Allow: []string{}}
		d.ranges[at+".leakScan"] = b.DefRange
		inner := d.content(b.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "allow"}}})
		if inner == nil {
			continue
		}
		if a, ok := inner.Attributes["allow"]; ok {
			c.LeakScan.Allow = d.strList(a, at+".leakScan.allow")
		}
	}
	for _, b := range d.single(content.Blocks, "deploy") {
		c.Deploy = &Deploy{}
		d.ranges[at+".deploy"] = b.DefRange
		inner := d.content(b.Body, &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "aws"}}})
		if inner == nil {
			continue
		}
		for _, aws := range d.single(inner.Blocks, "aws") {
			c.Deploy.AWS = d.aws(aws, at+".deploy.aws")
		}
	}
	return c
}

func (d *hclDecoder) aws(block *hcl.Block, at string) *AWSDeploy {
	a := &AWSDeploy{}
	d.ranges[at] = block.DefRange
	content := d.content(block.Body, &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "lambda"}, {Type: "ecs"}, {Type: "ssm"}}})
	if content == nil {
		return a
	}
	target := func(kind string, fields map[string]*string) {
		for _, b := range d.single(content.Blocks, kind) {
			d.ranges[at+"."+kind] = b.DefRange
			schema := &hcl.BodySchema{}
			for hclName := range fields {
				schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: hclName})
			}
			c := d.content(b.Body, schema)
			if c == nil {
				continue
			}
			for hclName, attr := range c.Attributes {
				*fields[hclName] = d.str(attr, at+"."+kind+"."+camelCase(hclName))
			}
		}
	}
	if hasBlock(content.Blocks, "lambda") {
		a.Lambda = &LambdaTarget{}
		target("lambda", map[string]*string{"function_name": &a.Lambda.FunctionName, "region": &a.Lambda.Region})
	}
	if hasBlock(content.Blocks, "ecs") {
		a.ECS = &ECSTarget{}
		target("ecs", map[string]*string{"cluster": &a.ECS.Cluster, "service": &a.ECS.Service, "container": &a.ECS.Container, "region": &a.ECS.Region})
	}
	if hasBlock(content.Blocks, "ssm") {
		a.SSM = &SSMTarget{}
		target("ssm", map[string]*string{"path": &a.SSM.Path, "kms_key_id": &a.SSM.KMSKeyID, "region": &a.SSM.Region})
	}
	return a
}

func hasBlock(blocks hcl.Blocks, kind string) bool {
	for _, b := range blocks {
		if b.Type == kind {
			return true
		}
	}
	return false
}

// single returns the blocks of a kind, reporting all but the first as duplicates.
func (d *hclDecoder) single(blocks hcl.Blocks, kind string) []*hcl.Block {
	var out []*hcl.Block
	for _, b := range blocks {
		if b.Type != kind {
			continue
		}
		if len(out) > 0 {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate " + kind + " block",
				Detail: fmt.Sprintf("only one %s block is allowed here; the first is at %s", kind, out[0].DefRange), Subject: b.DefRange.Ptr()})
			continue
		}
		out = append(out, b)
	}
	return out
}

func (d *hclDecoder) value(a *hcl.Attribute, want cty.Type) (cty.Value, bool) {
	v, diags := a.Expr.Value(d.ctx)
	if diags.HasErrors() {
		d.diags = append(d.diags, diags...)
		return cty.NilVal, false
	}
	v, err := convert.Convert(v, want)
	if err != nil || v.IsNull() || !v.IsWhollyKnown() {
		d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incorrect attribute value type",
			Detail: fmt.Sprintf("%s must be a %s", a.Name, want.FriendlyName()), Subject: a.Expr.Range().Ptr()})
		return cty.NilVal, false
	}
	return v, true
}

func (d *hclDecoder) str(a *hcl.Attribute, path string) string {
	d.ranges[path] = a.Expr.Range()
	v, ok := d.value(a, cty.String)
	if !ok {
		return ""
	}
	return v.AsString()
}

func (d *hclDecoder) strList(a *hcl.Attribute, path string) []string {
	d.ranges[path] = a.Expr.Range()
	if tuple, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok {
		for i, el := range tuple.Exprs {
			d.ranges[fmt.Sprintf("%s[%d]", path, i)] = el.Range()
		}
	}
	v, ok := d.value(a, cty.List(cty.String))
	if !ok {
		return nil
	}
	out := []string{}
	for _, el := range v.AsValueSlice() {
		out = append(out, el.AsString())
	}
	return out
}

// camelCase turns HCL's function_name into the TypeScript form's functionName.
func camelCase(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
