package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// GetCache returns a cached value (nil when absent).
func (s *Store) GetCache(ctx context.Context, kind, key string, v any) (bool, error) {
	var data string
	err := s.r.QueryRowContext(ctx, `SELECT data FROM cache WHERE kind = ? AND key = ?`, kind, key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal([]byte(data), v)
}

// PutCache stores a value by content key.
func (s *Store) PutCache(ctx context.Context, kind, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO cache(kind, key, data, created) VALUES(?, ?, ?, ?)
			ON CONFLICT(kind, key) DO UPDATE SET data = excluded.data`, kind, key, string(data), now())
		return err
	})
}

// Meta returns a value of the meta table ("" when absent).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetMeta sets a value of the meta table.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}

// Model is a ranker model the daemon knows.
type Model struct {
	ID       string          `json:"id"`
	Parent   string          `json:"parent,omitempty"`
	Dir      string          `json:"dir,omitempty"` // "" for the shipped model
	Metrics  json.RawMessage `json:"metrics,omitempty"`
	Accepted bool            `json:"accepted"`
	Reason   string          `json:"reason,omitempty"`
	Created  int64           `json:"created"`
	Current  bool            `json:"current"`
}

// PutModel records a model (a fine-tune, accepted or refused).
func (s *Store) PutModel(ctx context.Context, m *Model) error {
	metrics := string(m.Metrics)
	if metrics == "" {
		metrics = "{}"
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO models(id, parent, dir, metrics, accepted, reason, created) VALUES(?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET metrics = excluded.metrics, accepted = excluded.accepted, reason = excluded.reason`,
			m.ID, m.Parent, m.Dir, metrics, m.Accepted, m.Reason, now())
		return err
	})
}

// Models lists the models, oldest first, marking the current one.
func (s *Store) Models(ctx context.Context) ([]*Model, error) {
	cur, err := s.Meta(ctx, "model")
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, parent, dir, metrics, accepted, reason, created FROM models ORDER BY created, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Model
	for rows.Next() {
		var m Model
		var metrics string
		if err := rows.Scan(&m.ID, &m.Parent, &m.Dir, &metrics, &m.Accepted, &m.Reason, &m.Created); err != nil {
			return nil, err
		}
		m.Metrics = json.RawMessage(metrics)
		m.Current = m.ID == cur
		out = append(out, &m)
	}
	return out, rows.Err()
}

// UseModel makes model id the current one; it must exist and have been
// accepted or be the shipped model.
func (s *Store) UseModel(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var dir string
		var accepted bool
		err := tx.QueryRowContext(ctx, `SELECT dir, accepted FROM models WHERE id = ?`, id).Scan(&dir, &accepted)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no model %q (toppass model list)", id)
		}
		if err != nil {
			return err
		}
		if !accepted {
			return fmt.Errorf("model %q was refused by validation; it cannot be used", id)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES('model', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, id)
		return err
	})
}
