package slack

// Wire types of an incoming-webhook message with Block Kit blocks
// (docs.slack.dev/reference/block-kit).

type payload struct {
	// Text is the fallback shown in notifications and by clients that
	// cannot render blocks; Slack asks for it whenever blocks are sent.
	Text        string  `json:"text"`
	Blocks      []block `json:"blocks,omitempty"`
	UnfurlLinks bool    `json:"unfurl_links"`
	UnfurlMedia bool    `json:"unfurl_media"`
}

type block struct {
	Type     string `json:"type"`
	Text     *text  `json:"text,omitempty"`
	Fields   []text `json:"fields,omitempty"`
	Elements []any  `json:"elements,omitempty"` // text (context) or button (actions)
}

type text struct {
	Type string `json:"type"` // "plain_text" or "mrkdwn"
	Text string `json:"text"`
}

type button struct {
	Type     string `json:"type"` // "button"
	Text     text   `json:"text"`
	URL      string `json:"url"`
	ActionID string `json:"action_id"`
}

// Limits from the Block Kit reference and chat.postMessage, in characters.
const (
	maxText        = 40000 // message text (chat.postMessage truncates beyond)
	maxBlocks      = 50    // blocks per message
	maxHeader      = 150   // header block text
	maxSection     = 3000  // section text, context text elements
	maxField       = 2000  // each section field
	maxButtonText  = 75    // button text
	maxURL         = 3000  // button url
	maxSummary     = 600   // our own choice: a "short summary"
	maxDigestItems = 40    // digest lines before "and N more"
)

func plain(s string) *text  { return &text{Type: "plain_text", Text: s} }
func mrkdwn(s string) *text { return &text{Type: "mrkdwn", Text: s} }
