const { login } = require('./utils/request')

App({
  onLaunch() {
    // Log in early; every request logs in again by itself when needed.
    login().catch(() => {})
  },
})
