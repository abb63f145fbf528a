package sync

import (
	"context"

	"github.com/schoolstatus/rostersync/classlink"
	"github.com/schoolstatus/rostersync/store"
)

// School is a ClassLink school for the "School connection to SIS" screen.
type School struct {
	SourcedID  string `json:"sourced_id"`
	Name       string `json:"name"`
	Identifier string `json:"identifier"`
	Status     string `json:"status"` // active or tobedeleted
}

// Schools lists the district's schools (orgs of type school) in sourcedId
// order, pulled consistently, through dial.
func Schools(ctx context.Context, dial DialFunc, d store.District) ([]School, error) {
	c, err := dial(ctx, d)
	if err != nil {
		return nil, err
	}
	var out []School
	err = classlink.Consistent(ctx, func(ctx context.Context) error {
		out = out[:0]
		_, err := c.Schools(ctx, classlink.ListOptions{}, func(o classlink.Org) error {
			out = append(out, School{SourcedID: o.SourcedID, Name: o.Name, Identifier: o.Identifier, Status: o.Status})
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MissingSchools returns the selected sourcedIds that are not among the
// active schools, in the order selected: the sync would fail on them with
// reason schools_not_found.
func MissingSchools(selected []string, schools []School) []string {
	active := make(map[string]bool, len(schools))
	for _, s := range schools {
		if s.Status != classlink.StatusToBeDeleted {
			active[s.SourcedID] = true
		}
	}
	var missing []string
	for _, id := range selected {
		if !active[id] {
			missing = append(missing, id)
		}
	}
	return missing
}
