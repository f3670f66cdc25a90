// Which backend this copy of the mini-program talks to, by its version.
const config = require('../config')

const VERSIONS = ['develop', 'trial', 'release']

function envVersion(api) {
  try {
    const version = api.getAccountInfoSync().miniProgram.envVersion
    return VERSIONS.indexOf(version) >= 0 ? version : 'release'
  } catch (e) {
    // An unknown client is treated as the published one: never a test server.
    return 'release'
  }
}

function baseUrl(api) {
  return config.baseUrls[envVersion(api)]
}

module.exports = { VERSIONS, envVersion, baseUrl, apiPrefix: config.apiPrefix }
