package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/qrlogin/qrlogin/app/config"
)

// choice pairs a setting's stored value with the words shown for it.
type choice struct{ value, label string }

var (
	protocolChoices = []choice{
		{config.ProtocolAuto, "Automatic (recommended)"},
		{config.ProtocolMSC4388, "Newest (MSC4388)"},
		{config.Protocol2024, "For older phones (2024)"},
	}
	pollChoices = []choice{
		{config.PollNormal, "Normal"},
		{config.PollGentle, "Gentle, for busy servers"},
	}
)

func labels(cs []choice) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.label
	}
	return out
}

func labelOf(cs []choice, value string) string {
	for _, c := range cs {
		if c.value == value {
			return c.label
		}
	}
	return cs[0].label
}

func valueOf(cs []choice, label string) string {
	for _, c := range cs {
		if c.label == label {
			return c.value
		}
	}
	return cs[0].value
}

// ShowSettings shows the choices that shape the QR code: the protocol
// generation, a different server for the sign-in session, and how often to
// ask it for news.
func (a *App) ShowSettings() {
	a.qr = nil
	s := a.settings
	protocol := newPicker(labels(protocolChoices), a.ShowStart)
	protocol.SetSelected(labelOf(protocolChoices, s.Protocol))

	server := newEntry(a.ShowStart)
	server.SetPlaceHolder("Leave empty to use your own server")
	server.SetText(s.RendezvousServer)
	server.CursorColumn = len([]rune(s.RendezvousServer))

	poll := newPicker(labels(pollChoices), a.ShowStart)
	poll.SetSelected(labelOf(pollChoices, s.PollSpeed))

	problem := wrapped("", widget.DangerImportance)
	problem.Hide()

	save := func() {
		next := a.settings
		next.Protocol = valueOf(protocolChoices, protocol.Selected)
		next.RendezvousServer = strings.TrimSpace(server.Text)
		next.PollSpeed = valueOf(pollChoices, poll.Selected)
		if err := next.Validate(); err != nil {
			problem.SetText(err.Error())
			problem.Show()
			return
		}
		if a.svc.SaveSettings != nil {
			if err := a.svc.SaveSettings(next); err != nil {
				problem.SetText("The settings could not be saved: " + err.Error())
				problem.Show()
				return
			}
		}
		a.settings = next
		a.ShowStart()
	}
	server.OnSubmitted = func(string) { save() }

	form := widget.NewForm(
		widget.NewFormItem("QR code type", protocol),
		widget.NewFormItem("Sign-in server", server),
		widget.NewFormItem("Checking speed", poll),
	)
	form.Items[0].HintText = "Choose another type only if your phone cannot read the code."
	form.Items[1].HintText = "Only if your administrator gave you one."

	saveButton := newButton("Save", widget.HighImportance, save, a.ShowStart)
	saveButton.Icon = theme.DocumentSaveIcon()
	back := newButton("Back", widget.MediumImportance, a.ShowStart, a.ShowStart)
	back.Icon = theme.NavigateBackIcon()

	body := container.NewVBox(heading("Settings"), form, problem)
	a.show(&view{
		name:     "settings",
		content:  container.NewBorder(nil, container.NewHBox(saveButton, back), nil, nil, container.NewVScroll(body)),
		focus:    server,
		onEnter:  save,
		onEscape: a.ShowStart,
	})
}

var _ fyne.Focusable = (*entry)(nil)
