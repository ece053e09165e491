package ui

// The QR code, check code and waiting screens serve both directions: this
// computer signing in with a phone, and this computer signing another
// device in (a grant). words holds what they say in each.
type words struct {
	qrTitle          string
	qrSteps          []string
	qrWarning        string
	switchLink       string
	checkCodeTitle   string
	checkCodeHelp    string
	checkCodeInvalid string
	checking         string // while the typed code is checked
	connected        string // the waiting screen's title once the code matched
	waiting          string // and what it waits for
}

var signInWords = words{
	qrTitle:          QRTitle,
	qrSteps:          QRSteps,
	qrWarning:        QRWarning,
	switchLink:       SwitchLink,
	checkCodeTitle:   CheckCodeTitle,
	checkCodeHelp:    CheckCodeHelp,
	checkCodeInvalid: checkCodeInvalid(),
	checking:         "Making a secure connection to your phone…",
	connected:        "Connected securely to your phone",
	waiting:          "Waiting for your phone…",
}

// The grant's words: the other device is the new one, and the approval
// happens in this computer's browser (MSC4108, the existing device's side).
const (
	GrantQRTitle          = "Scan this code with the new device"
	GrantQRWarning        = "Only scan this code with your own new device. Whoever scans it can ask to sign in to your account: never send it to anyone."
	GrantSwitchLink       = "The new device can't read this code"
	GrantCheckCodeTitle   = "Type the code the new device shows"
	GrantCheckCodeHelp    = "The new device scanned the code and now shows two digits. Typing them here proves that it was your device."
	GrantApproveTitle     = "Approve the new device in your browser"
	GrantApproveOpened    = "A page has opened in your browser: enter the code shown on the new device there, then approve it."
	GrantApproveNotOpened = "Open this page in your browser, enter the code shown on the new device there, then approve it."
	GrantApproveAddress   = "If no page opened, open this address in your browser:"
)

// GrantQRSteps are the numbered steps beside the grant's QR code.
var GrantQRSteps = []string{
	"On the new device, open a Matrix app that can sign in with a QR code, such as Element X.",
	"Choose to sign in with a QR code there.",
	"Point the new device's camera at this code.",
	"Type the two digits the new device then shows into this window.",
}

var grantWords = words{
	qrTitle:          GrantQRTitle,
	qrSteps:          GrantQRSteps,
	qrWarning:        GrantQRWarning,
	switchLink:       GrantSwitchLink,
	checkCodeTitle:   GrantCheckCodeTitle,
	checkCodeHelp:    GrantCheckCodeHelp,
	checkCodeInvalid: GrantCheckCodeInvalid(),
	checking:         "Making a secure connection to the new device…",
	connected:        "Connected securely to the new device",
	waiting:          "Waiting for the new device to ask to sign in…",
}
