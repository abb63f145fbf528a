// Package screens holds one file per screen of Connect's click path
// (Dropdown → District Home Page → ⋮ → Settings → SIS Rostering →
// District-Level Daily Sync → Permissions → Review), the permissions matrix
// component, and what every screen shares: Common (size, styles, keys),
// the Edit being made, and the messages screens send to the router.
//
// A screen never navigates by itself: it posts one of the messages in
// messages.go (Open, Back, DistrictChosen, Saved) to Common's outbox and the
// wizard's router acts on it as soon as the screen's Update returns. Screens never import the sync engine or the
// ClassLink client; the wizard hands them data or functions.
package screens
