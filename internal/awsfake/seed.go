package awsfake

import (
	"encoding/json"
	"fmt"
	"io"
)

// Seed describes resources to create, as JSON: the demo's starting AWS account.
type Seed struct {
	Lambda []struct {
		Region string            `json:"region"`
		Name   string            `json:"name"`
		Env    map[string]string `json:"env"`
	} `json:"lambda"`
	ECS []struct {
		Region         string         `json:"region"`
		Cluster        string         `json:"cluster"`
		Service        string         `json:"service"`
		TaskDefinition map[string]any `json:"taskDefinition"`
	} `json:"ecs"`
	SSM []struct {
		Region string `json:"region"`
		Name   string `json:"name"`
		Type   string `json:"type"`
		Value  string `json:"value"`
	} `json:"ssm"`
}

// Seed creates the resources r describes (a Seed as JSON).
func (s *Server) Seed(r io.Reader) error {
	var seed Seed
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&seed); err != nil {
		return fmt.Errorf("awsfake: seed: %w", err)
	}
	for _, f := range seed.Lambda {
		s.PutFunction(f.Region, f.Name, f.Env)
	}
	for _, svc := range seed.ECS {
		if _, err := s.PutService(svc.Region, svc.Cluster, svc.Service, svc.TaskDefinition); err != nil {
			return fmt.Errorf("awsfake: seed service %s/%s: %w", svc.Cluster, svc.Service, err)
		}
	}
	for _, p := range seed.SSM {
		if err := s.PutParameter(p.Region, p.Name, p.Type, p.Value); err != nil {
			return fmt.Errorf("awsfake: seed parameter %s: %w", p.Name, err)
		}
	}
	return nil
}
