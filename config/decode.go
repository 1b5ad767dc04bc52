package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
)

// decodeTree reads a config's value (as the evaluator exported it) into a Project,
// strictly: an unknown key or a value of the wrong type is a message naming its path
// (components.web.secretz), and every problem is reported, not just the first.
func decodeTree(data []byte) (Project, []Message) {
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return Project{}, []Message{{Text: "read the config's value: " + err.Error()}}
	}
	d := &treeDecoder{}
	var p Project
	d.object(tree, "", map[string]func(any, string){
		"collection": func(v any, at string) { p.Collection = d.str(v, at) },
		"components": func(v any, at string) {
			m, ok := d.mapOf(v, at)
			if !ok {
				return
			}
			p.Components = make(map[string]Component, len(m))
			for _, name := range slices.Sorted(maps.Keys(m)) {
				p.Components[name] = d.component(m[name], join(at, name))
			}
		},
	})
	return p, d.msgs
}

type treeDecoder struct{ msgs []Message }

func (d *treeDecoder) bad(path, format string, args ...any) {
	d.msgs = append(d.msgs, Message{Path: path, Text: fmt.Sprintf(format, args...)})
}

// badValue is bad for a value of the wrong type; a string is located by its literal.
func (d *treeDecoder) badValue(v any, path, format string, args ...any) {
	s, _ := v.(string)
	d.msgs = append(d.msgs, Message{Path: path, Text: fmt.Sprintf(format, args...), find: s})
}

func (d *treeDecoder) component(v any, at string) Component {
	var c Component
	d.object(v, at, map[string]func(any, string){
		"kind":    func(v any, at string) { c.Kind = Kind(d.str(v, at)) },
		"secrets": func(v any, at string) { c.Secrets = d.strList(v, at) },
		"entry":   func(v any, at string) { c.Entry = d.str(v, at) },
		"outDir":  func(v any, at string) { c.OutDir = d.str(v, at) },
		"base":    func(v any, at string) { c.Base = d.str(v, at) },
		"leakScan": func(v any, at string) {
			c.LeakScan = &LeakScan{Allow: []string{}}
			d.object(v, at, map[string]func(any, string){
				"allow": func(v any, at string) { c.LeakScan.Allow = d.strList(v, at) },
			})
		},
		"deploy": func(v any, at string) {
			c.Deploy = &Deploy{}
			d.object(v, at, map[string]func(any, string){
				"aws": func(v any, at string) { c.Deploy.AWS = d.aws(v, at) },
			})
		},
	})
	if c.Secrets == nil {
		c.Secrets = []string{}
	}
	return c
}

func (d *treeDecoder) aws(v any, at string) *AWSDeploy {
	a := &AWSDeploy{}
	d.object(v, at, map[string]func(any, string){
		"lambda": func(v any, at string) {
			a.Lambda = &LambdaTarget{}
			d.object(v, at, map[string]func(any, string){
				"functionName": func(v any, at string) { a.Lambda.FunctionName = d.str(v, at) },
				"region":       func(v any, at string) { a.Lambda.Region = d.str(v, at) },
			})
		},
		"ecs": func(v any, at string) {
			a.ECS = &ECSTarget{}
			d.object(v, at, map[string]func(any, string){
				"cluster":   func(v any, at string) { a.ECS.Cluster = d.str(v, at) },
				"service":   func(v any, at string) { a.ECS.Service = d.str(v, at) },
				"container": func(v any, at string) { a.ECS.Container = d.str(v, at) },
				"region":    func(v any, at string) { a.ECS.Region = d.str(v, at) },
			})
		},
		"ssm": func(v any, at string) {
			a.SSM = &SSMTarget{}
			d.object(v, at, map[string]func(any, string){
				"path":     func(v any, at string) { a.SSM.Path = d.str(v, at) },
				"kmsKeyId": func(v any, at string) { a.SSM.KMSKeyID = d.str(v, at) },
				"region":   func(v any, at string) { a.SSM.Region = d.str(v, at) },
			})
		},
	})
	return a
}

// object decodes an object whose keys are all in fields; null counts as absent.
func (d *treeDecoder) object(v any, at string, fields map[string]func(any, string)) {
	m, ok := d.mapOf(v, at)
	if !ok {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		set, known := fields[k]
		if !known {
			d.msgs = append(d.msgs, Message{Path: join(at, k), Text: fmt.Sprintf("unknown key %q%s", k, suggest(k, fields)), find: k, findKey: true})
			continue
		}
		if m[k] != nil {
			set(m[k], join(at, k))
		}
	}
}

func (d *treeDecoder) mapOf(v any, at string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		d.badValue(v, orRoot(at), "must be an object, not %s", describe(v))
	}
	return m, ok
}

func (d *treeDecoder) str(v any, at string) string {
	s, ok := v.(string)
	if !ok {
		d.bad(at, "must be a string, not %s", describe(v))
	}
	return s
}

func (d *treeDecoder) strList(v any, at string) []string {
	list, ok := v.([]any)
	if !ok {
		d.badValue(v, at, "must be a list of strings, not %s", describe(v))
		return nil
	}
	out := make([]string, 0, len(list))
	for i, el := range list {
		out = append(out, d.str(el, fmt.Sprintf("%s[%d]", at, i)))
	}
	return out
}

func orRoot(at string) string {
	if at == "" {
		return "the default export"
	}
	return at
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	case bool:
		return fmt.Sprintf("%v", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// suggest names the known key closest to an unknown one, if one is close.
func suggest[V any](key string, known map[string]V) string {
	best, bestDist := "", 3
	for k := range known {
		if dist := levenshtein.Distance(strings.ToLower(key), strings.ToLower(k), nil); dist < bestDist || (dist == bestDist && k < best) {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return "; known keys: " + strings.Join(slices.Sorted(maps.Keys(known)), ", ")
	}
	return fmt.Sprintf("; did you mean %q?", best)
}
