// At launch: the county's words (labels) and the subscribe-message template
// ids are fetched ahead, so pages show them at once and a tap can ask for a
// subscription synchronously.
const labels = require('./utils/labels')
const subscribe = require('./utils/subscribe')
const { login } = require('./utils/request')

App({
  onLaunch() {
    labels.refresh().catch(() => null)
    login()
      .then(() => subscribe.loadTemplates())
      .catch(() => null)
  },
})
